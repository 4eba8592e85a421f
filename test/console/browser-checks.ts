/**
 * The console's checks in a real browser (playwright-core on Debian's chromium), for any running stack:
 * test/demo/demo.test.ts runs them on its stack after `bank-chain demo` has told its story.
 *
 * Every panel loads with no console error and no page error (screenshots in `outDir/<page>.png`); every
 * `[data-source]` figure sits in a link and equals its source (the service's JSON at that path and pointer, or the
 * chain view at `data-block`); a figure's link to a /tx page is followed and shows the receipt; one guarded action
 * is done through its confirmation page (freeze a fresh random address) and the chain shows it.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { chromium, type Page } from "playwright-core";

import { readDeployments } from "../../src/chain/deployments.js";
import type { StackFile } from "../../src/chain/stack-file.js";
import { PANELS } from "../../src/console/html.js";

/** Chromium's flags for a headless run that reaches nothing but the stack. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** One figure as the page shows it. */
interface ShownFigure {
  readonly value: string;
  readonly source: string;
  readonly block: string | null;
  readonly href: string | null;
}

/** What the checks saw, for the caller's own assertions. */
export interface ConsoleReport {
  /** Figures checked per page (screenshot name → count). */
  readonly figures: Readonly<Record<string, number>>;
  /** The tx page followed from a figure. */
  readonly followedTx: string;
  /** The freeze action's transaction hash and the frozen address. */
  readonly freeze: { readonly account: string; readonly txHash: string };
  /** Pages that showed a "service not available" notice, with the services named. */
  readonly unavailable: Readonly<Record<string, readonly string[]>>;
}

/** The screenshot name of a panel's path (`/` → `overview`). */
export function pageName(pathname: string): string {
  return pathname === "/" ? "overview" : pathname.slice(1).replace(/\//g, "-");
}

/** Resolves an RFC 6901 pointer in `json`. */
export function resolvePointer(json: unknown, pointer: string): unknown {
  if (pointer === "") return json;
  let at: unknown = json;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<string, unknown>)[token];
  }
  return at;
}

/** Reads the stack's chains: a provider and the deployments of each, by chain id. */
function chainsOf(stack: StackFile) {
  return new Map(
    stack.chains.map((chain) => [
      String(chain.chainId),
      {
        provider: new JsonRpcProvider(chain.rpc, chain.chainId, { staticNetwork: true }),
        deployments: readDeployments(chain.network, path.dirname(chain.deployments)),
      },
    ]),
  );
}

/** The value a figure's source gives now (a chain view at the figure's block). */
async function sourceValue(
  stack: StackFile,
  chains: ReturnType<typeof chainsOf>,
  figure: ShownFigure,
): Promise<string> {
  const chain = /^chain:(\d+):(\w+)\.(\w+)\(([^)]*)\)(?:\[(\d+)\])?$/.exec(figure.source);
  if (chain !== null) {
    const [, chainId, contract, fn, args, index] = chain;
    const on = chains.get(chainId!);
    if (on === undefined) throw new Error(`${figure.source}: the stack has no chain ${chainId}`);
    expect(figure.block, `${figure.source} has no data-block`).to.match(/^\d+$/);
    const record = on.deployments.get(contract!);
    const result = (await new Contract(record.address, record.abi, on.provider)
      .getFunction(fn!)
      .staticCall(...(args === "" ? [] : args!.split(",")), { blockTag: Number(figure.block) })) as unknown;
    return String(index === undefined ? result : (result as unknown[])[Number(index)]);
  }
  const service = /^([a-z0-9-]+):(\/[^#]*)#(.*)$/.exec(figure.source);
  if (service === null) throw new Error(`not a figure source: ${figure.source}`);
  const [, name, pathname, pointer] = service;
  const base = stack.services[name!];
  if (base === undefined) throw new Error(`${figure.source}: the stack runs no service ${name}`);
  const reply = await fetch(`${base}${pathname}`);
  expect(reply.status, `${figure.source}: GET ${pathname}`).to.equal(200);
  return String(resolvePointer(await reply.json(), pointer!));
}

async function figuresOn(page: Page): Promise<ShownFigure[]> {
  return page.$$eval("[data-source]", (elements) =>
    elements.map((element) => ({
      value: element.getAttribute("value") ?? "",
      source: element.getAttribute("data-source") ?? "",
      block: element.getAttribute("data-block"),
      href: element.closest("a")?.getAttribute("href") ?? null,
    })),
  );
}

/**
 * Runs the browser checks against the console at `consoleUrl` of `stack`; screenshots go to `outDir`. Throws (a
 * chai assertion) at the first check that fails, and on any console or page error.
 */
export async function checkConsole(options: {
  readonly consoleUrl: string;
  readonly stack: StackFile;
  readonly outDir: string;
}): Promise<ConsoleReport> {
  const { consoleUrl, stack, outDir } = options;
  mkdirSync(outDir, { recursive: true });
  const chains = chainsOf(stack);
  const browser = await chromium.launch({
    executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console error on ${page.url()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`page error on ${page.url()}: ${error.message}`));
    const shot = (name: string) => page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });

    const figures: Record<string, number> = {};
    const unavailable: Record<string, string[]> = {};
    for (const panel of PANELS) {
      const name = pageName(panel.path);
      const reply = await page.goto(`${consoleUrl}${panel.path}`);
      expect(reply?.status(), `${panel.path}`).to.equal(200);
      expect(await page.locator('link[rel="icon"]').getAttribute("href"), panel.path).to.equal("data:,");
      await shot(name);
      const shown = await figuresOn(page);
      for (const figure of shown) {
        expect(figure.href, `${panel.path}: ${figure.source} is not in a link`).to.be.a("string").and.not.equal("");
        expect(figure.value, `${panel.path}: ${figure.source}`).to.equal(await sourceValue(stack, chains, figure));
      }
      figures[name] = shown.length;
      unavailable[name] = await page.$$eval("[data-unavailable]", (els) =>
        els.map((el) => el.getAttribute("data-unavailable") ?? ""),
      );
    }
    expect(errors, errors.join("\n")).to.deep.equal([]);

    // A figure's link to the transaction behind it.
    await page.goto(`${consoleUrl}/tokens`);
    const txLink = page.locator('a[href^="/tx/"]:has(data[data-source])').first();
    const followedTx = (await txLink.getAttribute("href"))!;
    await Promise.all([page.waitForURL(`**${followedTx}`), txLink.click()]);
    await expect(await page.locator("#receipt").count()).to.equal(1);
    expect(await page.locator("#receipt").innerText()).to.include("success");
    expect(await page.locator("b.event").count(), "decoded logs").to.be.greaterThan(0);
    await shot("tx");

    // The guarded action: freeze a fresh random address through its confirmation page.
    const account = Wallet.createRandom().address;
    await page.goto(`${consoleUrl}/actions/freeze?account=${account}`);
    await shot("freeze-confirm");
    await Promise.all([page.waitForURL(/\/actions\/freeze\?.*confirm=/), page.locator("#confirm").click()]);
    const done = page.locator("#tx");
    expect(await page.locator("#done").innerText()).to.match(/^Done/);
    const txHref = (await done.getAttribute("href"))!;
    const txHash = /\/tx\/\d+\/(0x[0-9a-f]{64})$/.exec(txHref)![1]!;
    await shot("freeze-done");
    const first = chains.get(String(stack.chains[0]!.chainId))!;
    const token = first.deployments.get("BankToken");
    const frozen = (await new Contract(token.address, token.abi, first.provider).getFunction("isFrozen")(
      account,
    )) as boolean;
    expect(frozen, `${account} frozen on chain`).to.equal(true);
    await Promise.all([page.waitForURL(`**${txHref}`), done.click()]);
    expect(await page.locator("b.event").allInnerTexts()).to.include("Frozen");
    expect(errors, errors.join("\n")).to.deep.equal([]);
    return { figures, followedTx, freeze: { account, txHash }, unavailable };
  } finally {
    await browser.close();
    for (const chain of chains.values()) chain.provider.destroy();
  }
}
