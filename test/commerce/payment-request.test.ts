import { createRequire } from "node:module";

import { expect } from "chai";
import { concat, getAddress, keccak256, ZeroHash } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";

import {
  depositAddressOf,
  minimalProxyInitCode,
  parsePaymentRequest,
  paymentRequestQr,
  paymentRequestUri,
  PaymentRequestError,
  type PaymentRequest,
} from "../../src/commerce/payment-request.js";

/** eth-url-parser 1.0.4 (CommonJS, untyped): the outside ERC-681 implementation we check ours against. */
interface EthUrl {
  scheme: string;
  prefix?: string;
  target_address: string;
  chain_id?: string;
  function_name?: string;
  parameters?: Record<string, string>;
}
const ethUrl = createRequire(import.meta.url)("eth-url-parser") as {
  parse(uri: string): EthUrl;
  build(data: { target_address: string; chain_id?: string; function_name?: string; parameters?: object }): string;
};

/** jsQR 1.4 is a webpack bundle whose CommonJS exports hold the decoder as `default`. */
const jsQR = jsQRModule.default;

const MAX_UINT256 = (1n << 256n) - 1n;
const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DEPOSIT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const REQUEST: PaymentRequest = { token: TOKEN, chainId: 31337n, depositAddress: DEPOSIT, tokenAmount: 2169n };
const URI = `ethereum:${TOKEN}@31337/transfer?address=${DEPOSIT}&uint256=2169`;

/** `address` with the case of its first letter flipped: a mixed-case address whose EIP-55 checksum is wrong. */
function badChecksum(address: string): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2;
  const c = address.charAt(i);
  const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
  return address.slice(0, i) + flipped + address.slice(i + 1);
}

function expectRefused(uri: string, field: string): void {
  let caught: unknown;
  try {
    parsePaymentRequest(uri);
  } catch (error) {
    caught = error;
  }
  expect(caught, uri).to.be.instanceOf(PaymentRequestError);
  const error = caught as PaymentRequestError;
  expect(error.code, uri).to.equal("CHECKOUT_BAD_PAYMENT_REQUEST");
  expect(error.details["field"], `${uri}: ${error.message}`).to.equal(field);
}

/** eth-url-parser's amounts are bignumber.js strings: plain below 1e21, `d.ddde+N` from there; exactly, as bigint. */
function theirAmount(text: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?e\+(\d+)$/.exec(text);
  if (match === null) return BigInt(text);
  const [, whole = "", fraction = "", exponent = "0"] = match;
  return BigInt(whole + fraction) * 10n ** BigInt(Number(exponent) - fraction.length);
}

/** A QR symbol's modules (true = dark), read from a rendering; rows of columns, quiet zone removed. */
type Modules = boolean[][];

/** Decodes a QR symbol's modules with jsQR (an outside decoder). */
function decodeModules(modules: Modules, scale = 6, margin = 4): string | undefined {
  const size = (modules.length + 2 * margin) * scale;
  const rgba = new Uint8ClampedArray(size * size * 4).fill(255);
  modules.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (!dark) return;
      for (let y = 0; y < scale; y++) {
        for (let x = 0; x < scale; x++) {
          const at = (((r + margin) * scale + y) * size + (c + margin) * scale + x) * 4;
          rgba.fill(0, at, at + 3);
        }
      }
    }),
  );
  return jsQR(rgba, size, size)?.data;
}

/**
 * The error correction level in a symbol's two copies of its format information (ISO/IEC 18004: bits 14 and 13,
 * at row 8 columns 0 and 1, and at column 8 rows n-1 and n-2, masked with 0b10...): L 01, M 00, Q 11, H 10.
 */
function errorCorrectionLevel(modules: Modules): string {
  const n = modules.length;
  const level = (b14: boolean | undefined, b13: boolean | undefined) =>
    ["M", "L", "H", "Q"][(Number(!b14) << 1) | Number(b13 ?? false)];
  const first = level(modules[8]?.[0], modules[8]?.[1]);
  const second = level(modules[n - 1]?.[8], modules[n - 2]?.[8]);
  expect(second, "the two copies of the format information").to.equal(first);
  return first ?? "?";
}

/** The modules of a PNG (8 pixels a module, a 4-module quiet zone), sampled at each module's centre. */
function pngModules(png: Buffer): { modules: Modules; text: string | undefined } {
  const image = PNG.sync.read(png);
  const text = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
  expect(image.width).to.equal(image.height);
  expect(image.width % 8).to.equal(0);
  const n = image.width / 8 - 8;
  const modules = Array.from({ length: n }, (_, r) =>
    Array.from(
      { length: n },
      (_, c) => (image.data[(((r + 4) * 8 + 4) * image.width + (c + 4) * 8 + 4) * 4] ?? 255) < 128,
    ),
  );
  return { modules, text };
}

interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
}

/**
 * A strict well-formedness check for the XML subset an SVG of ours may use (elements, double-quoted attributes
 * without duplicates, whitespace text, an optional XML declaration): every tag closed in order, one root. Returns
 * the tree; throws on anything else.
 */
function parseXml(xml: string): XmlElement {
  const tokens = xml.match(/<[^<>]*>|[^<>]+/g) ?? [];
  expect(tokens.join(""), "no stray < or >").to.equal(xml);
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  tokens.forEach((token, index) => {
    if (!token.startsWith("<")) {
      expect(token.trim(), "text outside markup").to.equal("");
      return;
    }
    if (token.startsWith("<?xml")) {
      expect(index, "the XML declaration comes first").to.equal(0);
      expect(token).to.match(/^<\?xml(\s+[a-z]+="[^"]*")*\s*\?>$/);
      return;
    }
    const close = /^<\/([A-Za-z_][\w.:-]*)\s*>$/.exec(token);
    if (close !== null) {
      expect(stack.pop()?.name, `closing ${token}`).to.equal(close[1]);
      return;
    }
    const open = /^<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"<&]*")*)\s*(\/?)>$/.exec(token);
    expect(open, `a well-formed tag: ${token.slice(0, 60)}`).to.not.equal(null);
    const [, name = "", attributeText = "", selfClosing] = open ?? [];
    const attributes = new Map<string, string>();
    for (const [, key = "", value = ""] of attributeText.matchAll(/([A-Za-z_][\w.:-]*)="([^"]*)"/g)) {
      expect(attributes.has(key), `attribute ${key} once`).to.equal(false);
      attributes.set(key, value);
    }
    const element: XmlElement = { name, attributes, children: [] };
    const parent = stack.at(-1);
    if (parent === undefined) {
      expect(root, "one root element").to.equal(undefined);
      root = element;
    } else {
      parent.children.push(element);
    }
    if (selfClosing !== "/") stack.push(element);
  });
  expect(stack, "every element closed").to.have.length(0);
  expect(root, "a root element").to.not.equal(undefined);
  return root as XmlElement;
}

/**
 * Draws an SVG of qrcode's kind (a stroked path of `M x y`, `m dx dy`, `h dx` in module units, 1 unit wide,
 * centred on y + 0.5) onto a module grid of `size` (the viewBox), then takes the quiet zone away.
 */
function svgModules(svg: XmlElement, size: number, margin = 4): Modules {
  const grid: Modules = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  const strokes = svg.children.filter((child) => child.name === "path" && child.attributes.has("stroke"));
  expect(strokes).to.have.length(1);
  const d = strokes[0]?.attributes.get("d") ?? "";
  expect(d).to.match(/^([Mmh]-?\d+(\.\d+)?( -?\d+(\.\d+)?)?)+$/);
  let x = 0;
  let y = 0;
  for (const [, command, a = "0", b = "0"] of d.matchAll(/([Mmh])(-?\d+(?:\.\d+)?)(?: (-?\d+(?:\.\d+)?))?/g)) {
    if (command === "M") [x, y] = [Number(a), Number(b)];
    else if (command === "m") [x, y] = [x + Number(a), y + Number(b)];
    else {
      const row = Math.floor(y);
      for (let c = x; c < x + Number(a); c++) grid[row]![c] = true;
      x += Number(a);
    }
  }
  return grid.slice(margin, size - margin).map((row) => row.slice(margin, size - margin));
}

const address = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((bytes) => getAddress(`0x${Buffer.from(bytes).toString("hex")}`));
const request: fc.Arbitrary<PaymentRequest> = fc.record({
  token: address,
  chainId: fc.oneof(fc.constantFrom(1n, 8453n, 31337n, 11155111n), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n })),
  depositAddress: address,
  tokenAmount: fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.bigInt({ min: 1n, max: MAX_UINT256 })),
});
const nonZero = (r: PaymentRequest) => BigInt(r.token) !== 0n && BigInt(r.depositAddress) !== 0n;

describe("commerce payment request", function () {
  describe("ERC-681 URI", function () {
    it("builds the spec's form: checksummed addresses, @chainId, /transfer, plain decimal amount", function () {
      expect(paymentRequestUri(REQUEST)).to.equal(URI);
      // Lower-case inputs come out checksummed.
      const lower = { ...REQUEST, token: TOKEN.toLowerCase(), depositAddress: DEPOSIT.toLowerCase() };
      expect(paymentRequestUri(lower)).to.equal(URI);
      // Large amounts stay plain decimals, never an exponent.
      expect(paymentRequestUri({ ...REQUEST, tokenAmount: 10n ** 30n })).to.match(
        /&uint256=1000000000000000000000000000000$/,
      );
    });

    it("parses back what it builds, for any request (property)", function () {
      fc.assert(
        fc.property(request.filter(nonZero), (r) => {
          const uri = paymentRequestUri(r);
          expect(uri).to.not.match(/[eE+]\d*$/);
          expect(parsePaymentRequest(uri)).to.deep.equal(r);
        }),
        { numRuns: 300 },
      );
    });

    it("refuses to build from a bad field", function () {
      const bad: [Partial<PaymentRequest>, string][] = [
        [{ token: "0x1234" }, "token"],
        [{ token: badChecksum(TOKEN) }, "token"],
        [{ token: "0x0000000000000000000000000000000000000000" }, "token"],
        [{ depositAddress: "shop.eth" }, "depositAddress"],
        [{ depositAddress: badChecksum(DEPOSIT) }, "depositAddress"],
        [{ chainId: 0n }, "chainId"],
        [{ chainId: 31337 as unknown as bigint }, "chainId"],
        [{ tokenAmount: 0n }, "tokenAmount"],
        [{ tokenAmount: -1n }, "tokenAmount"],
        [{ tokenAmount: MAX_UINT256 + 1n }, "tokenAmount"],
        [{ tokenAmount: 2169 as unknown as bigint }, "tokenAmount"],
        [{ chainId: MAX_UINT256 + 1n }, "chainId"],
        // getAddress would read these, but a request names its addresses as 0x and 40 hex digits.
        [{ token: TOKEN.slice(2) }, "token"],
        [{ depositAddress: DEPOSIT.slice(2).toLowerCase() }, "depositAddress"],
        // Untyped callers: a value regular expressions cannot even read as text is refused all the same.
        [{ token: Symbol("token") as unknown as string }, "token"],
      ];
      for (const [change, field] of bad) {
        expect(() => paymentRequestUri({ ...REQUEST, ...change }), field)
          .to.throw(PaymentRequestError)
          .with.property("details")
          .that.has.property("field", field);
      }
      // The largest chain id and amount that fit a uint256 are built, and read back.
      const largest = { ...REQUEST, chainId: MAX_UINT256, tokenAmount: MAX_UINT256 };
      expect(parsePaymentRequest(paymentRequestUri(largest))).to.deep.equal(largest);
    });

    it("names the offending value in a refusal to build, and keeps the checksum error as its cause", function () {
      const details = (change: Partial<PaymentRequest>) => {
        try {
          paymentRequestUri({ ...REQUEST, ...change });
        } catch (error) {
          expect(error).to.be.instanceOf(PaymentRequestError);
          return error as PaymentRequestError;
        }
        expect.fail("expected a PaymentRequestError");
      };
      expect(details({ chainId: 0n }).details).to.deep.equal({ field: "chainId", chainId: 0n });
      expect(details({ tokenAmount: 0n }).details).to.deep.equal({ field: "tokenAmount", tokenAmount: 0n });
      expect(details({ token: "0x1234" }).details).to.deep.equal({ field: "token", token: "0x1234" });
      const zero = `0x${"0".repeat(40)}`;
      expect(details({ depositAddress: zero }).details).to.deep.equal({
        field: "depositAddress",
        depositAddress: zero,
      });
      const wrong = details({ token: badChecksum(TOKEN) });
      expect(wrong.details).to.deep.equal({ field: "token", token: badChecksum(TOKEN) });
      expect(wrong.cause).to.be.instanceOf(Error).with.property("code", "INVALID_ARGUMENT");
      expect(details({ token: "0x1234" })).to.not.have.property("cause");
    });

    it("accepts ERC-681's pay- prefix and an upper-case scheme, and never emits either", function () {
      const canonical = parsePaymentRequest(URI);
      expect(parsePaymentRequest(`ethereum:pay-${URI.slice(9)}`)).to.deep.equal(canonical);
      expect(parsePaymentRequest(`ETHEREUM:${URI.slice(9)}`)).to.deep.equal(canonical);
      expect(paymentRequestUri(parsePaymentRequest(`ethereum:pay-${URI.slice(9)}`))).to.equal(URI);
    });

    it("accepts lower-case addresses and reads them checksummed; refuses a mixed-case one with a wrong checksum", function () {
      const lower = `ethereum:${TOKEN.toLowerCase()}@31337/transfer?address=${DEPOSIT.toLowerCase()}&uint256=2169`;
      expect(parsePaymentRequest(lower)).to.deep.equal(REQUEST);
      expectRefused(URI.replace(TOKEN, badChecksum(TOKEN)), "target");
      expectRefused(URI.replace(DEPOSIT, badChecksum(DEPOSIT)), "address");
      // The checksum refusal keeps ethers' error as its cause.
      for (const uri of [URI.replace(TOKEN, badChecksum(TOKEN)), URI.replace(DEPOSIT, badChecksum(DEPOSIT))]) {
        expect(() => parsePaymentRequest(uri))
          .to.throw(PaymentRequestError)
          .with.property("cause")
          .that.is.instanceOf(Error)
          .with.property("code", "INVALID_ARGUMENT");
      }
    });

    it("refuses another scheme, another ERC-831 prefix, and an ENS name where an address belongs", function () {
      const tail = URI.slice("ethereum:".length);
      expectRefused(`bitcoin:${tail}`, "scheme");
      expectRefused(`eth:${tail}`, "scheme");
      expectRefused(`ethereum ${tail}`, "scheme");
      expectRefused(`https://pay.example/${tail}`, "scheme");
      expectRefused(`ethereum:foo-${tail}`, "prefix");
      expectRefused(`ethereum:PAY-${tail}`, "prefix");
      expectRefused(`ethereum:pay-pay-${tail}`, "target");
      // ERC-831: a prefix never starts with 0x, so this is a malformed address, not a prefix.
      expectRefused(`ethereum:0x12-${tail}`, "target");
      expectRefused(URI.replace(TOKEN, "usd.bank-chain.eth"), "target");
      expectRefused(URI.replace(TOKEN, "pay-usd.eth"), "target");
      expectRefused(URI.replace(DEPOSIT, "shop.eth"), "address");
    });

    it("refuses a target that is not exactly a 20-byte address, and the zero address", function () {
      expectRefused(URI.replace(TOKEN, TOKEN.slice(0, 41)), "target");
      expectRefused(URI.replace(TOKEN, `${TOKEN}0`), "target");
      expectRefused(URI.replace(TOKEN, `0X${TOKEN.slice(2)}`), "target");
      expectRefused(URI.replace(TOKEN, `0x${"0".repeat(40)}`), "target");
      expectRefused(URI.replace(DEPOSIT, `0x${"0".repeat(40)}`), "address");
      expectRefused(URI.replace(DEPOSIT, DEPOSIT.slice(0, 41)), "address");
      // 40 hex digits without 0x (which ethers' getAddress would read) are not an address here.
      expectRefused(URI.replace(TOKEN, `${TOKEN.slice(2)}00`), "target");
      expectRefused(URI.replace(`address=${DEPOSIT}`, `address=${DEPOSIT.slice(2)}`), "address");
      expectRefused(URI.replace(`address=${DEPOSIT}`, `address=${DEPOSIT.slice(2).toLowerCase()}`), "address");
    });

    it("refuses a missing or non-canonical chain id", function () {
      expectRefused(URI.replace("@31337", ""), "chainId");
      for (const chain of ["@", "@0", "@031337", "@31337a", "@-1", "@0x7a69", "@ 31337"]) {
        expectRefused(URI.replace("@31337", chain), "chainId");
      }
      expectRefused(URI.replace("@31337", `@${MAX_UINT256 + 1n}`), "chainId");
      // The chain id follows an @, nothing else.
      for (const separator of [":", "#", "!", "/"])
        expectRefused(URI.replace("@31337", `${separator}31337`), "chainId");
      expect(parsePaymentRequest(URI.replace("@31337", `@${MAX_UINT256}`)).chainId).to.equal(MAX_UINT256);
    });

    it("refuses any function but transfer, and a missing one", function () {
      for (const name of ["approve", "Transfer", "transferFrom", "transfer%28%29", ""]) {
        expectRefused(URI.replace("/transfer", `/${name}`), "function");
      }
      expectRefused(URI.replace("/transfer", ""), "function");
      expectRefused(`ethereum:${TOKEN}@31337`, "function");
      expectRefused(`ethereum:${TOKEN}@1`, "function");
      // The function follows the chain id after a /, not after a ?.
      expectRefused(URI.replace("/transfer?", "?transfer?"), "function");
    });

    it("refuses extra, repeated, missing, valueless or empty parameters, in either order otherwise", function () {
      const reordered = `ethereum:${TOKEN}@31337/transfer?uint256=2169&address=${DEPOSIT}`;
      expect(parsePaymentRequest(reordered)).to.deep.equal(REQUEST);
      expectRefused(`${URI}&value=0`, "parameters");
      expectRefused(`${URI}&gas=65000`, "parameters");
      expectRefused(`${URI}&uint256=2169`, "parameters");
      expectRefused(`${URI}&address=${DEPOSIT}`, "parameters");
      expectRefused(`${URI}&`, "parameters");
      expectRefused(URI.replace(`address=${DEPOSIT}&`, ""), "parameters");
      expectRefused(URI.replace("&uint256=2169", ""), "parameters");
      expectRefused(URI.replace("&uint256=2169", "&uint256"), "parameters");
      // A valueless parameter is refused as one, even when its name starts with a known one.
      expectRefused(URI.replace("&uint256=2169", "&uint2560"), "parameters");
      expectRefused(URI.replace(`address=${DEPOSIT}`, `address${DEPOSIT}`), "parameters");
      expectRefused(URI.replace(/\?.*$/, ""), "parameters");
      expectRefused(URI.replace(/\?.*$/, "?"), "parameters");
      expectRefused(URI.replace("address=", "Address="), "parameters");
      expectRefused(URI.replace("address=", "addr%65ss="), "parameters");
    });

    it("accepts an amount in scientific notation only when it is an exact integer (ERC-681 allows the notation)", function () {
      const withAmount = (amount: string) => URI.replace("uint256=2169", `uint256=${amount}`);
      const exact: [string, bigint][] = [
        ["1e3", 1000n],
        ["1E3", 1000n],
        ["2.5e2", 250n],
        ["2.169e3", 2169n],
        ["25e1", 250n],
        ["2.50e1", 25n],
        ["5e0", 5n],
        ["1", 1n],
        ["1e0", 1n],
        ["2.014e18", 2_014_000_000_000_000_000n],
        ["1.6666666666666667e16", 16_666_666_666_666_667n],
        [`${MAX_UINT256}`, MAX_UINT256],
      ];
      for (const [text, amount] of exact) {
        expect(parsePaymentRequest(withAmount(text)).tokenAmount, text).to.equal(amount);
      }
      const refused = [
        "1.5e0",
        "2.1695e3",
        "1e-3",
        "1e",
        "e3",
        ".5e1",
        "0.5e1",
        "01e3",
        "1e03",
        "1e100",
        "1.2e78",
        `${MAX_UINT256 + 1n}`,
        "0",
        "0e5",
        "-2169",
        "+2169",
        "02169",
        "2169.0",
        "2169.",
        "0x879",
        "2 169",
        "2%2C169",
        "%32169",
        "2169#frag",
        "",
      ];
      for (const text of refused) expectRefused(withAmount(text), "uint256");
    });

    it("refuses a non-string and an over-long URI", function () {
      expectRefused(`${URI}${"0".repeat(600)}`, "uri");
      // At most 512 characters: an accepted amount padded with fraction zeros (2.169000…e3) up to the bound.
      const padded = (length: number) => {
        const head = URI.replace("uint256=2169", "uint256=2.169");
        return `${head}${"0".repeat(length - head.length - 2)}e3`;
      };
      expect(padded(512)).to.have.length(512);
      expect(parsePaymentRequest(padded(512))).to.deep.equal(REQUEST);
      expectRefused(padded(513), "uri");
      // The refusal quotes only the first 80 characters of what it was given.
      expect(() => parsePaymentRequest(padded(513)))
        .to.throw(PaymentRequestError)
        .with.property("details")
        .that.deep.equals({ field: "uri", uri: padded(513).slice(0, 80) });
      expect(() => parsePaymentRequest(42 as unknown as string))
        .to.throw(PaymentRequestError)
        .with.property("code", "CHECKOUT_BAD_PAYMENT_REQUEST");
    });
  });

  describe("ERC-681 URI against eth-url-parser 1.0.4 (an outside implementation)", function () {
    it("reads our URI to the same fields", function () {
      fc.assert(
        fc.property(request.filter(nonZero), (r) => {
          const theirs = ethUrl.parse(paymentRequestUri(r));
          expect(theirs.scheme).to.equal("ethereum");
          expect(theirs.prefix).to.equal(undefined);
          expect(theirs.target_address).to.equal(r.token);
          expect(theirs.chain_id).to.equal(r.chainId.toString());
          expect(theirs.function_name).to.equal("transfer");
          expect(Object.keys(theirs.parameters ?? {}).sort()).to.deep.equal(["address", "uint256"]);
          expect(theirs.parameters?.["address"]).to.equal(r.depositAddress);
          expect(theirAmount(theirs.parameters?.["uint256"] ?? "")).to.equal(r.tokenAmount);
        }),
        { numRuns: 200 },
      );
    });

    it("writes URIs (with amounts in scientific notation) that ours reads to the same request", function () {
      fc.assert(
        fc.property(request.filter(nonZero), (r) => {
          const theirs = ethUrl.build({
            target_address: r.token,
            chain_id: r.chainId.toString(),
            function_name: "transfer",
            parameters: { address: r.depositAddress, uint256: r.tokenAmount.toString() },
          });
          expect(parsePaymentRequest(theirs)).to.deep.equal(r);
        }),
        { numRuns: 200 },
      );
      // The spec's known answers, as eth-url-parser writes them.
      const built = ethUrl.build({
        target_address: TOKEN,
        chain_id: "31337",
        function_name: "transfer",
        parameters: { address: DEPOSIT, uint256: "16666666666666667" },
      });
      expect(built).to.match(/uint256=1\.6666666666666667e16$/);
      expect(parsePaymentRequest(built).tokenAmount).to.equal(16_666_666_666_666_667n);
    });

    it("agrees that pay- is the payment prefix", function () {
      const theirs = ethUrl.parse(`ethereum:pay-${URI.slice(9)}`);
      expect(theirs.prefix).to.equal("pay");
      expect(theirs.target_address).to.equal(parsePaymentRequest(`ethereum:pay-${URI.slice(9)}`).token);
    });
  });

  describe("depositAddressOf (OpenZeppelin 5 Clones.cloneDeterministic)", function () {
    /** ERC-1167's standard clone (runtime) code as the EIP writes it; bytes 10 to 29 are the implementation. */
    const EIP1167_RUNTIME =
      "363d3d373d3d3d363d73bebebebebebebebebebebebebebebebebebebebe5af43d82803e903d91602b57fd5bf3";
    /**
     * The creation code of the EIP's reference factory: RETURNDATASIZE PUSH1 0x2d DUP1 PUSH1 0x0a RETURNDATASIZE
     * CODECOPY DUP2 RETURN, i.e. return the 45 (0x2d) bytes that follow these 10 (0x0a).
     */
    const EIP1167_CREATION = "3d602d80600a3d3981f3";

    /** The init code by hand: the EIP's bytes with the placeholder replaced. */
    function initCodeByHand(implementation: string): string {
      expect(EIP1167_RUNTIME.length / 2).to.equal(45);
      const runtime = EIP1167_RUNTIME.replace("be".repeat(20), implementation.slice(2).toLowerCase());
      return `0x${EIP1167_CREATION}${runtime}`;
    }

    /** CREATE2 by hand (EIP-1014): keccak256(0xff ‖ deployer ‖ salt ‖ keccak256(initCode)), last 20 bytes. */
    function create2ByHand(deployer: string, salt: string, initCode: string): string {
      return getAddress(`0x${keccak256(concat(["0xff", deployer, salt, keccak256(initCode)])).slice(-40)}`);
    }

    const CHECKOUT = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";
    const IMPLEMENTATION = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
    const INTENT = keccak256(Buffer.from("intent 1"));

    it("uses the EIP-1167 creation code for the implementation (55 bytes)", function () {
      const initCode = minimalProxyInitCode(IMPLEMENTATION);
      expect(initCode).to.equal(initCodeByHand(IMPLEMENTATION));
      expect((initCode.length - 2) / 2).to.equal(55);
    });

    it("is the CREATE2 address from the checkout with the intent id as salt (known answer)", function () {
      const expected = create2ByHand(CHECKOUT, INTENT, initCodeByHand(IMPLEMENTATION));
      expect(depositAddressOf(CHECKOUT, IMPLEMENTATION, INTENT)).to.equal(expected);
      // Pinned (computed once with @noble/hashes' keccak over the same bytes), so a change of encoding shows here
      // too; the Checkout contract's depositAddress(intentId) must give the same for the same three values.
      expect(expected).to.equal("0x0B2D517c4951A1d415bfd51730Ae1014d7B5D78e");
    });

    it("matches the hand computation for any checkout, implementation and intent (property)", function () {
      const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString("hex")}`);
      fc.assert(
        fc.property(address, address, bytes32, (checkout, implementation, intentId) => {
          const deposit = depositAddressOf(checkout, implementation, intentId);
          expect(deposit).to.equal(create2ByHand(checkout, intentId, initCodeByHand(implementation)));
          expect(
            depositAddressOf(
              checkout.toLowerCase(),
              implementation.toLowerCase(),
              intentId.toUpperCase().replace("0X", "0x"),
            ),
          ).to.equal(deposit);
        }),
        { numRuns: 200 },
      );
    });

    it("is where the EVM puts the clone: CREATE2 from the checkout's address on Hardhat's in-process chain", async function () {
      // No Solidity here: the checkout's address gets the runtime code of the deterministic-deployment proxy (the
      // CREATE2 factory rocketh and hardhat-deploy use; calldata = salt ‖ init code, returns the new address),
      // and the implementation a 9-byte body, ADDRESS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN, which answers
      // address(this): through the clone's DELEGATECALL, the clone's own address.
      const factory =
        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";
      const connection = await network.create("hardhat");
      try {
        const { ethers, provider } = connection;
        await provider.request({ method: "hardhat_setCode", params: [CHECKOUT, factory] });
        await provider.request({ method: "hardhat_setCode", params: [IMPLEMENTATION, "0x3060005260206000f3"] });
        const [signer] = await ethers.getSigners();
        for (const intentId of [INTENT, ZeroHash, keccak256(Buffer.from("intent 2"))]) {
          const data = concat([intentId, minimalProxyInitCode(IMPLEMENTATION)]);
          const predicted = depositAddressOf(CHECKOUT, IMPLEMENTATION, intentId);
          expect(await ethers.provider.getCode(predicted)).to.equal("0x");
          const returned = await ethers.provider.call({ to: CHECKOUT, data });
          expect(getAddress(`0x${returned.slice(-40)}`)).to.equal(predicted);
          await (await signer!.sendTransaction({ to: CHECKOUT, data })).wait();
          const runtime = EIP1167_RUNTIME.replace("be".repeat(20), IMPLEMENTATION.slice(2).toLowerCase());
          expect(await ethers.provider.getCode(predicted)).to.equal(`0x${runtime}`);
          const answer = await ethers.provider.call({ to: predicted, data: "0x" });
          expect(getAddress(`0x${answer.slice(-40)}`)).to.equal(predicted);
        }
      } finally {
        await connection.close();
      }
    });

    it("gives each intent, checkout and implementation its own address", function () {
      const other = keccak256(Buffer.from("intent 2"));
      const base = depositAddressOf(CHECKOUT, IMPLEMENTATION, INTENT);
      expect(depositAddressOf(CHECKOUT, IMPLEMENTATION, other)).to.not.equal(base);
      expect(depositAddressOf(IMPLEMENTATION, IMPLEMENTATION, INTENT)).to.not.equal(base);
      expect(depositAddressOf(CHECKOUT, CHECKOUT, INTENT)).to.not.equal(base);
    });

    it("refuses a malformed checkout, implementation or intent id", function () {
      const bad: [() => unknown, string][] = [
        [() => depositAddressOf("0x1234", IMPLEMENTATION, INTENT), "checkout"],
        [() => depositAddressOf(badChecksum(CHECKOUT), IMPLEMENTATION, INTENT), "checkout"],
        [() => depositAddressOf(CHECKOUT, "checkout-impl.eth", INTENT), "implementation"],
        [() => depositAddressOf(CHECKOUT, badChecksum(IMPLEMENTATION), INTENT), "implementation"],
        [() => depositAddressOf(CHECKOUT, IMPLEMENTATION, INTENT.slice(0, 65)), "intentId"],
        [() => depositAddressOf(CHECKOUT, IMPLEMENTATION, `${INTENT}00`), "intentId"],
        [() => depositAddressOf(CHECKOUT, IMPLEMENTATION, INTENT.slice(2)), "intentId"],
        [() => depositAddressOf(CHECKOUT, IMPLEMENTATION, `00${INTENT}`), "intentId"],
        [() => depositAddressOf(CHECKOUT, IMPLEMENTATION, 42 as unknown as string), "intentId"],
        // Untyped callers: a value regular expressions cannot even read as text is refused all the same.
        [() => depositAddressOf(CHECKOUT, IMPLEMENTATION, Symbol("intent") as unknown as string), "intentId"],
        [() => depositAddressOf(Symbol("checkout") as unknown as string, IMPLEMENTATION, INTENT), "checkout"],
        // 40 hex digits without 0x (which ethers' getAddress would read) are not an address here.
        [() => depositAddressOf(CHECKOUT.slice(2), IMPLEMENTATION, INTENT), "checkout"],
        [() => depositAddressOf(CHECKOUT, IMPLEMENTATION.slice(2).toLowerCase(), INTENT), "implementation"],
      ];
      for (const [f, field] of bad) {
        expect(f, field).to.throw(PaymentRequestError).with.property("details").that.has.property("field", field);
        expect(f).to.throw(PaymentRequestError).with.property("code", "CHECKOUT_BAD_DEPOSIT_ARGUMENT");
      }
    });
  });
  describe("QR code", function () {
    it("renders a PNG that an outside decoder (pngjs + jsQR) reads back to the exact URI, at level M", async function () {
      const png = await paymentRequestQr(URI, "png");
      expect(Buffer.isBuffer(png)).to.equal(true);
      expect(png.subarray(0, 8).toString("hex")).to.equal("89504e470d0a1a0a");
      const { modules, text } = pngModules(png);
      expect(text).to.equal(URI);
      expect(decodeModules(modules)).to.equal(URI);
      expect(errorCorrectionLevel(modules)).to.equal("M");
    });

    it("renders a well-formed SVG (one <svg> root with a viewBox) whose drawing decodes to the exact URI, at level M", async function () {
      const svg = await paymentRequestQr(URI, "svg");
      expect(typeof svg).to.equal("string");
      const root = parseXml(svg);
      expect(root.name).to.equal("svg");
      expect(root.attributes.get("xmlns")).to.equal("http://www.w3.org/2000/svg");
      const viewBox = /^0 0 (\d+) \1$/.exec(root.attributes.get("viewBox") ?? "");
      expect(viewBox, "viewBox 0 0 n n").to.not.equal(null);
      const modules = svgModules(root, Number(viewBox?.[1]));
      expect(decodeModules(modules)).to.equal(URI);
      expect(errorCorrectionLevel(modules)).to.equal("M");
      // The same symbol as the PNG's.
      expect(modules).to.deep.equal(pngModules(await paymentRequestQr(URI, "png")).modules);
    });

    it("carries the canonical URI for an accepted non-canonical one (pay-, exponent, lower case, order)", async function () {
      const variant = `ethereum:pay-${TOKEN.toLowerCase()}@31337/transfer?uint256=2.169e3&address=${DEPOSIT}`;
      expect(pngModules(await paymentRequestQr(variant, "png")).text).to.equal(URI);
    });

    it("refuses to draw a URI it would not parse, and an unknown format", async function () {
      for (const uri of [`${URI}&value=1`, URI.replace("transfer", "approve"), "ethereum:shop.eth"]) {
        let caught: unknown;
        await paymentRequestQr(uri, "png").catch((error: unknown) => (caught = error));
        expect(caught, uri).to.be.instanceOf(PaymentRequestError);
      }
      let caught: unknown;
      await paymentRequestQr(URI, "jpeg" as "png").catch((error: unknown) => (caught = error));
      expect(caught)
        .to.be.instanceOf(PaymentRequestError)
        .with.property("details")
        .that.has.property("field", "format");
    });
  });
});
