// The browser test: a page on one origin calls Eliza on another, through
// polyconnect's CORS helper (eliza -serve -cors ORIGIN), with connect-web in
// headless Chromium, over Connect and gRPC-Web, unary and server streaming.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { bundlePage, startEliza, startPageServer } from "./harness.js";

const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Eliza over h2c, which a browser reaches over HTTP/1.1 (browsers speak
// HTTP/2 only over TLS), and over h2 with a throw-away certificate, which
// Chromium accepts here because the test says so, reached over HTTP/2.
const servers = [
  { transport: "h2c", args: ["-transport", "h2c"], http: "HTTP/1.1" },
  { transport: "h2", args: ["-transport", "h2", "-self-signed"], http: "HTTP/2.0" },
];

for (const server of servers) {
  describe(`connect-web in Chromium, Eliza on ${server.transport}`, () => {
    let page, other, eliza, context, profile, pageServer, otherServer;
    const requests = []; // what the page sent to Eliza: "METHOD path"
    const versions = new Set(); // the HTTP versions Eliza saw, from its Eliza-Http-Version header

    before(async () => {
      const script = await bundlePage();
      pageServer = await startPageServer(script);
      otherServer = await startPageServer(script); // an origin Eliza does not allow
      eliza = await startEliza(...server.args, "-cors", pageServer.origin);
      profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        headless: true,
        args: chromiumFlags,
        ignoreHTTPSErrors: true, // the h2 server's certificate is self-signed
      });
      context.on("request", (req) => {
        if (req.url().startsWith(eliza.url)) requests.push(`${req.method()} ${new URL(req.url()).pathname}`);
      });
      context.on("response", (res) => {
        const v = res.headers()["eliza-http-version"];
        if (res.url().startsWith(eliza.url) && v) versions.add(v);
      });
      page = await context.newPage();
      await page.goto(pageServer.origin);
      await page.waitForFunction(() => window.eliza !== undefined);
      other = await context.newPage();
      await other.goto(otherServer.origin);
      await other.waitForFunction(() => window.eliza !== undefined);
    });

    after(async () => {
      await context?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
      await eliza?.stop();
      await pageServer?.close();
      await otherServer?.close();
    });

    for (const protocol of ["connect", "grpcweb"]) {
      test(`${protocol}: unary Say`, async () => {
        const res = await page.evaluate(([url, p]) => window.eliza.say(url, p, "I need a holiday"), [eliza.url, protocol]);
        assert.equal(res.code, undefined, `error ${res.code}: ${res.message}`);
        assert.match(res.sentence, /a holiday/);
      });

      test(`${protocol}: server-streaming Introduce`, async () => {
        const res = await page.evaluate(([url, p]) => window.eliza.introduce(url, p, "Ada"), [eliza.url, protocol]);
        assert.equal(res.code, undefined, `error ${res.code}: ${res.message}`);
        assert.equal(res.sentences.length, 5);
        assert.equal(res.sentences[0], "Hi Ada, I'm Eliza.");
        assert.equal(res.sentences[4], "So, Ada, how are you feeling today?");
      });

      test(`${protocol}: errors keep their code`, async () => {
        const res = await page.evaluate(([url, p]) => window.eliza.say(url, p, ""), [eliza.url, protocol]);
        assert.equal(res.code, "InvalidArgument");
        assert.equal(res.message, "say something: the sentence is empty");
      });

      test(`${protocol}: a page of another origin is refused`, async () => {
        const res = await other.evaluate(([url, p]) => window.eliza.say(url, p, "hello"), [eliza.url, protocol]);
        assert.equal(res.sentence, undefined, "the call succeeded from an origin that is not allowed");
        assert.ok(res.code, "no error code");
      });
    }

    test(`the browser spoke ${server.http}`, () => {
      assert.deepEqual([...versions], [server.http]);
    });

    test("connect: Say with HTTP GET", async () => {
      requests.length = 0;
      const res = await page.evaluate((url) => window.eliza.say(url, "connect", "Hello there", true), eliza.url);
      assert.equal(res.code, undefined, `error ${res.code}: ${res.message}`);
      assert.match(res.sentence, /^(Hello|Hi)/);
      assert.ok(
        requests.includes("GET /connectrpc.eliza.v1.ElizaService/Say"),
        `no GET among ${JSON.stringify(requests)}`,
      );
    });
  });
}
