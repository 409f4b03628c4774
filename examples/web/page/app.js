// The browser side of the web test: connect-web clients of Eliza, which the
// test drives through window.eliza. Bundled by esbuild when the test runs.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { ElizaService } from "../gen/connectrpc/eliza/v1/eliza_pb.js";

// client returns an Eliza client for one protocol: "connect" (with HTTP GET
// for Say when useHttpGet is set) or "grpcweb".
function client(baseUrl, protocol, useHttpGet) {
  const transport =
    protocol === "grpcweb"
      ? createGrpcWebTransport({ baseUrl })
      : createConnectTransport({ baseUrl, useHttpGet });
  return createClient(ElizaService, transport);
}

// failure describes an error as plain data the test can compare.
function failure(err) {
  const ce = ConnectError.from(err);
  return { code: Code[ce.code], message: ce.rawMessage };
}

window.eliza = {
  async say(baseUrl, protocol, sentence, useHttpGet = false) {
    try {
      const res = await client(baseUrl, protocol, useHttpGet).say({ sentence });
      return { sentence: res.sentence };
    } catch (err) {
      return failure(err);
    }
  },
  async introduce(baseUrl, protocol, name) {
    const sentences = [];
    try {
      for await (const res of client(baseUrl, protocol, false).introduce({ name })) {
        sentences.push(res.sentence);
      }
      return { sentences };
    } catch (err) {
      return { sentences, ...failure(err) };
    }
  },
};
