// The connect-node test: Node clients of Eliza over HTTP/1.1 and HTTP/2
// (h2c, and h2 with TLS), in every protocol connect-node speaks, every kind
// of call each HTTP version allows.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ElizaService } from "../gen/connectrpc/eliza/v1/eliza_pb.js";
import { startEliza } from "./harness.js";

const protocols = {
  connect: createConnectTransport,
  grpc: createGrpcTransport,
  grpcweb: createGrpcWebTransport,
};

// The combinations: gRPC needs HTTP/2; bidi streams need HTTP/2 in connect-node.
const setups = [
  { server: "h2c", httpVersion: "1.1", protocols: ["connect", "grpcweb"] },
  { server: "h2c", httpVersion: "2", protocols: ["connect", "grpc", "grpcweb"] },
  { server: "h2", httpVersion: "2", protocols: ["connect", "grpc", "grpcweb"] },
];

async function* sentences(...list) {
  for (const sentence of list) yield { sentence };
}

describe("connect-node", () => {
  const servers = {};
  before(async () => {
    servers.h2c = await startEliza("-transport", "h2c");
    servers.h2 = await startEliza("-transport", "h2", "-self-signed");
  });
  after(async () => {
    await servers.h2c?.stop();
    await servers.h2?.stop();
  });

  for (const setup of setups) {
    for (const protocol of setup.protocols) {
      const name = `${protocol} over HTTP/${setup.httpVersion} (${setup.server})`;
      const client = () =>
        createClient(
          ElizaService,
          protocols[protocol]({
            baseUrl: servers[setup.server].url,
            httpVersion: setup.httpVersion,
            // The server's certificate is a throw-away self-signed one.
            nodeOptions: setup.server === "h2" ? { rejectUnauthorized: false } : undefined,
          }),
        );

      test(`${name}: unary Say`, async () => {
        const res = await client().say({ sentence: "I feel tired of my job" });
        assert.match(res.sentence, /tired of your job/);
      });

      test(`${name}: unary error`, async () => {
        await assert.rejects(client().say({ sentence: "" }), (err) => {
          const ce = ConnectError.from(err);
          return ce.code === Code.InvalidArgument && ce.rawMessage === "say something: the sentence is empty";
        });
      });

      test(`${name}: server-streaming Introduce`, async () => {
        const got = [];
        for await (const res of client().introduce({ name: "Grace" })) got.push(res.sentence);
        assert.equal(got.length, 5);
        assert.equal(got[0], "Hi Grace, I'm Eliza.");
      });

      test(`${name}: client-streaming Confide`, async () => {
        const res = await client().confide(sentences("I lost my keys", "I need a holiday"));
        assert.equal(res.sentences, 2);
        assert.match(res.sentence, /^Thank you for telling me both of those things\. .*a holiday/);
      });

      if (setup.httpVersion === "2") {
        test(`${name}: bidi Converse, turn by turn`, async () => {
          // Each answer arrives before the next sentence is sent: full duplex.
          let answered;
          let waitAnswer = new Promise((r) => (answered = r));
          async function* talk() {
            for (const sentence of ["I am sad", "My dog ignores me", "Goodbye"]) {
              yield { sentence };
              await waitAnswer;
              waitAnswer = new Promise((r) => (answered = r));
            }
          }
          const answers = [];
          for await (const res of client().converse(talk())) {
            answers.push(res.sentence);
            answered();
          }
          assert.equal(answers.length, 3);
          assert.match(answers[0], /sad/);
          assert.match(answers[2], /^Goodbye/);
        });
      }
    }
  }
});
