// Helpers of the web tests: an Eliza server (cmd/eliza -serve) and a static
// server for the test page, both on loopback, stopped by the caller.
import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..", "..");

let builtBinary;

// elizaBinary returns the path of cmd/eliza: $ELIZA_BIN (run.sh builds it),
// else a build into a temporary folder, once.
function elizaBinary() {
  if (process.env.ELIZA_BIN) return process.env.ELIZA_BIN;
  if (!builtBinary) {
    const dir = mkdtempSync(join(tmpdir(), "eliza-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    builtBinary = join(dir, "eliza");
    execFileSync("go", ["build", "-o", builtBinary, "./examples/cmd/eliza"], { cwd: repo, stdio: "inherit" });
  }
  return builtBinary;
}

// startEliza runs `eliza -serve -addr 127.0.0.1:0 ...args` and resolves to
// { url, stop } once it prints the URL it serves at.
export async function startEliza(...args) {
  const child = spawn(elizaBinary(), ["-serve", "-addr", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, "exit");
  const first = await Promise.race([
    once(lines, "line").then(([line]) => line),
    exited.then(([code]) => {
      throw new Error(`eliza exited ${code} before serving: ${stderr}`);
    }),
  ]);
  const m = /at (\S+) \(interrupt to stop\)/.exec(first);
  if (!m) throw new Error(`unexpected first line from eliza: ${first}`);
  lines.on("line", () => {}); // keep reading its output
  return {
    url: m[1],
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      const [code, signal] = await exited;
      if (code !== 0) throw new Error(`eliza exited ${code ?? signal}: ${stderr}`);
    },
  };
}

// bundlePage bundles page/app.js with connect-web and the generated code.
export async function bundlePage() {
  const result = await build({
    entryPoints: [join(here, "..", "page", "app.js")],
    bundle: true,
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "error",
  });
  return result.outputFiles[0].text;
}

// startPageServer serves the test page and its script on a free loopback
// port and resolves to { origin, close }.
export async function startPageServer(script) {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Eliza</title></head>
<body><script type="module" src="/app.js"></script></body></html>`;
  const server = createServer((req, res) => {
    if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(html);
    } else if (req.url === "/app.js") {
      res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(script);
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
