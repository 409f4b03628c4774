package compiletest_test

import (
	barv1rpc "polyconnect.dev/codegen/compiletest/gen/acme/foo/bar/v1/barv1rpc"
	"polyconnect.dev/codegen/compiletest/gen/clash/rpc/rpcrpc"
	"polyconnect.dev/codegen/compiletest/gen/collide/v1/collidev1rpc"
	"polyconnect.dev/codegen/compiletest/gen/comments/v1/commentsv1rpc"
	"polyconnect.dev/codegen/compiletest/gen/editions/v1/editionsv1rpc"
	"polyconnect.dev/codegen/compiletest/gen/greet/v1/greetv1rpc"
	"polyconnect.dev/codegen/compiletest/gen/legacy/v2/legacyv2rpc"
	"polyconnect.dev/codegen/compiletest/gen/multi/v1/multiv1rpc"
	"polyconnect.dev/codegen/compiletest/gen/streams/v1/streamsv1rpc"
	samepkgv1 "polyconnect.dev/codegen/compiletest/gensame/samepkg/v1"
)

// Every generated package is imported here, so building this test builds all of them, and every
// Unimplemented…Handler implements its handler interface.
var (
	_ barv1rpc.BarServiceHandler = barv1rpc.UnimplementedBarServiceHandler{}

	_ rpcrpc.ClashServiceHandler = rpcrpc.UnimplementedClashServiceHandler{}

	_ collidev1rpc.FooHandler               = collidev1rpc.UnimplementedFooHandler{}
	_ collidev1rpc.NewFooHandler_           = collidev1rpc.UnimplementedNewFooHandler{}
	_ collidev1rpc.UnimplementedFooHandler_ = collidev1rpc.UnimplementedUnimplementedFooHandler{}
	_ collidev1rpc.FooBarHandler            = collidev1rpc.UnimplementedFooBarHandler{}
	_ collidev1rpc.ClientHandler            = collidev1rpc.UnimplementedClientHandler{}
	_ collidev1rpc.KeywordsHandler          = collidev1rpc.UnimplementedKeywordsHandler{}
	_ collidev1rpc.HttpHandler              = collidev1rpc.UnimplementedHttpHandler{}
	_ collidev1rpc.BaseHandler              = collidev1rpc.UnimplementedBaseHandler{}
	_ collidev1rpc.NewFooBarHandler_        = collidev1rpc.UnimplementedNewFooBarHandler{}

	_ commentsv1rpc.NoteServiceHandler         = commentsv1rpc.UnimplementedNoteServiceHandler{}
	_ commentsv1rpc.OldServiceHandler          = commentsv1rpc.UnimplementedOldServiceHandler{}
	_ commentsv1rpc.UndocumentedServiceHandler = commentsv1rpc.UnimplementedUndocumentedServiceHandler{}

	_ editionsv1rpc.InventoryServiceHandler = editionsv1rpc.UnimplementedInventoryServiceHandler{}
	_ editionsv1rpc.CounterServiceHandler   = editionsv1rpc.UnimplementedCounterServiceHandler{}

	_ greetv1rpc.GreetServiceHandler = greetv1rpc.UnimplementedGreetServiceHandler{}

	_ legacyv2rpc.RecordServiceHandler = legacyv2rpc.UnimplementedRecordServiceHandler{}

	_ multiv1rpc.PingServiceHandler  = multiv1rpc.UnimplementedPingServiceHandler{}
	_ multiv1rpc.EchoServiceHandler  = multiv1rpc.UnimplementedEchoServiceHandler{}
	_ multiv1rpc.EmptyServiceHandler = multiv1rpc.UnimplementedEmptyServiceHandler{}

	_ streamsv1rpc.StreamServiceHandler = streamsv1rpc.UnimplementedStreamServiceHandler{}

	_ samepkgv1.ThingServiceHandler_ = samepkgv1.UnimplementedThingServiceHandler_{}
)
