/**
 * The client-facing payment request (docs/commerce.md, "Payment request"): an ERC-681 URI of the plain ERC-20
 * transfer that pays an intent into its deposit address, and its QR code.
 *
 * ```
 * ethereum:<token>@<chainId>/transfer?address=<depositAddress>&uint256=<tokenAmount>
 * ```
 *
 * Built: both addresses EIP-55 checksummed, the chain id and the amount as plain decimal integers (no exponent, no
 * leading zero), no `pay-` prefix. Parsed strictly, with one refusal (`PaymentRequestError`, code
 * `CHECKOUT_BAD_PAYMENT_REQUEST`, `details.field` naming the part) for anything else:
 *
 * - the scheme is `ethereum:` (any letter case, RFC 3986 §3.1); the ERC-831 prefix may be `pay-` (ERC-681's own;
 *   never emitted) and nothing else;
 * - the target is a 20-byte hex address, all lower case or EIP-55 checksummed (a mixed-case address with a wrong
 *   checksum is refused): an ENS name is refused, as the request must say where the money goes without a lookup;
 * - the chain id is required, a decimal integer from 1, no leading zero;
 * - the function is `transfer`, and the parameters are exactly `address` and `uint256`, each once, in either order;
 * - the amount is positive and fits a `uint256`. ERC-681 allows scientific notation (`2.014e18`), and other
 *   builders use it (eth-url-parser writes every amount that way), so a number in scientific notation is accepted
 *   when it denotes an exact integer (`2.169e3`, `25e1`), and refused otherwise (`1.5e0`). Signs, fractions without
 *   an exponent, leading zeros and percent-encodings are refused.
 *
 * The deposit address is where `Checkout` clones its `CheckoutDeposit` for the intent: OpenZeppelin 5
 * `Clones.cloneDeterministic(implementation, intentId)` from the `Checkout` contract, i.e. CREATE2 with the
 * ERC-1167 minimal proxy's creation code as init code.
 */
import { getAddress, getCreate2Address, keccak256, ZeroAddress } from "ethers";
import QRCode from "qrcode";

import { BankChainError } from "../errors.js";

/** A payment request or its inputs refused; `details.field` names the part, `details.uri` the URI if any. */
export class PaymentRequestError extends BankChainError {}

/** What an ERC-681 payment request says: pay `tokenAmount` base units of `token` to `depositAddress`. */
export interface PaymentRequest {
  /** The ERC-20 token contract (the URI's target), EIP-55 checksummed when returned. */
  readonly token: string;
  /** The EIP-155 chain id. */
  readonly chainId: bigint;
  /** The recipient: the intent's deposit address, EIP-55 checksummed when returned. */
  readonly depositAddress: string;
  /** The amount in the token's base units, 1 to 2^256 - 1. */
  readonly tokenAmount: bigint;
}

/** The QR code formats {@link paymentRequestQr} renders. */
export type QrFormat = "svg" | "png";

/** The code of every refusal of a payment request URI or of its fields. */
export const BAD_PAYMENT_REQUEST = "CHECKOUT_BAD_PAYMENT_REQUEST";

/** The code of a refused input to {@link depositAddressOf}. */
export const BAD_DEPOSIT_ARGUMENT = "CHECKOUT_BAD_DEPOSIT_ARGUMENT";

/**
 * The ERC-1167 minimal proxy's creation code around the 20-byte implementation address, as OpenZeppelin 5
 * `Clones.cloneDeterministic` lays it out in memory (`0x3d602d80600a3d3981f3363d3d373d3d3d363d73 ‖ implementation
 * ‖ 0x5af43d82803e903d91602b57fd5bf3`, 55 bytes).
 */
export const MINIMAL_PROXY_PREFIX = "0x3d602d80600a3d3981f3363d3d373d3d3d363d73";
/** The bytes after the implementation address in {@link MINIMAL_PROXY_PREFIX}'s creation code. */
export const MINIMAL_PROXY_SUFFIX = "0x5af43d82803e903d91602b57fd5bf3";

/** The longest URI {@link parsePaymentRequest} reads: ours are under 250 characters. */
export const MAX_PAYMENT_REQUEST_LENGTH = 512;

const MAX_UINT256 = (1n << 256n) - 1n;
const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
/** Scientific notation: an integer part without leading zero, an optional fraction, an exponent up to 99. */
const SCIENTIFIC = /^([1-9][0-9]*)(?:\.([0-9]+))?[eE](0|[1-9][0-9]?)$/;

/**
 * The ERC-681 URI of the transfer that pays `request`: `ethereum:<token>@<chainId>/transfer?address=<deposit
 * address>&uint256=<tokenAmount>`, addresses checksummed, numbers in plain decimal.
 *
 * @throws PaymentRequestError `CHECKOUT_BAD_PAYMENT_REQUEST` when a field is out of range (an address that is not
 *   one, has a wrong checksum or is zero; a chain id below 1; an amount of 0 or beyond `uint256`).
 */
export function paymentRequestUri(request: PaymentRequest): string {
  const token = addressField("token", request.token);
  const depositAddress = addressField("depositAddress", request.depositAddress);
  const { chainId, tokenAmount } = request;
  if (typeof chainId !== "bigint" || chainId < 1n || chainId > MAX_UINT256) {
    throw fieldError("chainId", `chain id ${String(chainId)} must be a bigint from 1`, { chainId });
  }
  if (typeof tokenAmount !== "bigint" || tokenAmount < 1n || tokenAmount > MAX_UINT256) {
    throw fieldError("tokenAmount", `token amount ${String(tokenAmount)} must be a bigint from 1 to 2^256 - 1`, {
      tokenAmount,
    });
  }
  return `ethereum:${token}@${chainId}/transfer?address=${depositAddress}&uint256=${tokenAmount}`;
}

/**
 * Reads an ERC-681 transfer request strictly (see the module's rules), addresses returned checksummed.
 *
 * @throws PaymentRequestError `CHECKOUT_BAD_PAYMENT_REQUEST`, `details.field` one of `uri`, `scheme`, `prefix`,
 *   `target`, `chainId`, `function`, `parameters`, `address`, `uint256`.
 */
export function parsePaymentRequest(uri: string): PaymentRequest {
  if (typeof uri !== "string" || uri.length > MAX_PAYMENT_REQUEST_LENGTH) {
    throw uriError(
      String(uri).slice(0, 80),
      "uri",
      `a payment request must be a string of at most ${MAX_PAYMENT_REQUEST_LENGTH} characters`,
    );
  }
  const schemeEnd = "ethereum:".length;
  if (uri.slice(0, schemeEnd).toLowerCase() !== "ethereum:") {
    throw uriError(uri, "scheme", "the scheme must be ethereum:");
  }
  let rest = uri.slice(schemeEnd);
  if (rest.startsWith("pay-")) {
    rest = rest.slice("pay-".length);
  } else if (/^[0-9a-zA-Z]+-0x/.test(rest) && !rest.startsWith("0x")) {
    // ERC-831: a prefix ends at the first "-" and never starts with 0x; `pay-` is the only one for payments.
    throw uriError(uri, "prefix", `the prefix ${rest.slice(0, rest.indexOf("-") + 1)} is not pay-`);
  }

  const target = rest.slice(0, 42);
  if (!HEX_ADDRESS.test(target) || /^[0-9a-zA-Z.-]/.test(rest.slice(42))) {
    throw uriError(
      uri,
      "target",
      "the target must be a 20-byte hex address (an ENS name is refused: the request must name the address itself)",
    );
  }
  const token = checksummed(uri, "target", target);
  rest = rest.slice(42);

  if (!rest.startsWith("@")) throw uriError(uri, "chainId", "the chain id (@<chainId> after the token) is required");
  const chainEnd = rest.search(/[/?]/);
  const chainText = chainEnd === -1 ? rest.slice(1) : rest.slice(1, chainEnd);
  if (!DECIMAL.test(chainText) || chainText === "0" || BigInt(chainText) > MAX_UINT256) {
    throw uriError(uri, "chainId", `the chain id ${JSON.stringify(chainText)} must be a decimal integer from 1`);
  }
  const chainId = BigInt(chainText);
  // With neither / nor ? left, chainEnd is -1 and charAt gives "": a missing function is refused here too.
  if (rest.charAt(chainEnd) !== "/") {
    throw uriError(uri, "function", "the function (/transfer) is required");
  }
  rest = rest.slice(chainEnd + 1);

  const question = rest.indexOf("?");
  const functionName = question === -1 ? rest : rest.slice(0, question);
  if (functionName !== "transfer") {
    throw uriError(uri, "function", `the function ${JSON.stringify(functionName)} is not transfer`);
  }
  if (question === -1) throw uriError(uri, "parameters", "the parameters address and uint256 are required");

  const values = new Map<string, string>();
  for (const parameter of rest.slice(question + 1).split("&")) {
    const equals = parameter.indexOf("=");
    if (equals === -1) throw uriError(uri, "parameters", `the parameter ${JSON.stringify(parameter)} has no value`);
    const key = parameter.slice(0, equals);
    if (key !== "address" && key !== "uint256") {
      throw uriError(uri, "parameters", `the parameter ${JSON.stringify(key)} is not address or uint256`);
    }
    if (values.has(key)) throw uriError(uri, "parameters", `the parameter ${key} is repeated`);
    values.set(key, parameter.slice(equals + 1));
  }
  const addressText = values.get("address");
  const amountText = values.get("uint256");
  if (addressText === undefined || amountText === undefined) {
    throw uriError(uri, "parameters", `the parameter ${addressText === undefined ? "address" : "uint256"} is missing`);
  }
  if (!HEX_ADDRESS.test(addressText)) {
    throw uriError(uri, "address", `the recipient ${JSON.stringify(addressText)} must be a 20-byte hex address`);
  }
  const depositAddress = checksummed(uri, "address", addressText);
  const tokenAmount = amountOf(uri, amountText);
  if (token === ZeroAddress || depositAddress === ZeroAddress) {
    throw uriError(
      uri,
      token === ZeroAddress ? "target" : "address",
      "the zero address is neither a token nor a recipient",
    );
  }
  return { token, chainId, depositAddress, tokenAmount };
}

/**
 * The 55-byte init code `Clones.cloneDeterministic(implementation, salt)` deploys: the ERC-1167 minimal proxy's
 * creation code for `implementation`.
 *
 * @throws PaymentRequestError `CHECKOUT_BAD_DEPOSIT_ARGUMENT` for an implementation that is not an address.
 */
export function minimalProxyInitCode(implementation: string): string {
  const address = depositArgumentAddress("implementation", implementation);
  return `${MINIMAL_PROXY_PREFIX}${address.slice(2).toLowerCase()}${MINIMAL_PROXY_SUFFIX.slice(2)}`;
}

/**
 * The deposit address of an intent: where `Checkout` (at `checkout`) clones `implementation` with
 * `Clones.cloneDeterministic(implementation, intentId)`, i.e. OpenZeppelin 5 `Clones.predictDeterministicAddress(
 * implementation, intentId, checkout)`: `keccak256(0xff ‖ checkout ‖ intentId ‖ keccak256(initCode))[12:]`.
 * Returned checksummed; the address holds no code until the clone is made, and tokens sent there before are kept.
 *
 * @throws PaymentRequestError `CHECKOUT_BAD_DEPOSIT_ARGUMENT` for an address that is not one (or has a wrong
 *   checksum), or an intent id that is not 32 bytes of hex.
 */
export function depositAddressOf(checkout: string, implementation: string, intentId: string): string {
  const deployer = depositArgumentAddress("checkout", checkout);
  if (typeof intentId !== "string" || !BYTES32.test(intentId)) {
    throw new PaymentRequestError(BAD_DEPOSIT_ARGUMENT, `intent id ${String(intentId)} must be 32 bytes of hex`, {
      field: "intentId",
      value: intentId,
    });
  }
  return getCreate2Address(deployer, intentId, keccak256(minimalProxyInitCode(implementation)));
}

/**
 * The QR code of a payment request, error correction level M, a 4-module quiet zone: an SVG document (string,
 * scalable, `viewBox` in modules) or a PNG image (Buffer, 8 pixels a module). The URI is parsed first and the QR
 * carries its canonical form (the one {@link paymentRequestUri} builds), so a wallet never meets a `pay-` prefix
 * or an exponent.
 *
 * @throws PaymentRequestError `CHECKOUT_BAD_PAYMENT_REQUEST` for a URI {@link parsePaymentRequest} refuses.
 */
export function paymentRequestQr(uri: string, format: "svg"): Promise<string>;
export function paymentRequestQr(uri: string, format: "png"): Promise<Buffer>;
export async function paymentRequestQr(uri: string, format: QrFormat): Promise<string | Buffer> {
  const canonical = paymentRequestUri(parsePaymentRequest(uri));
  if (format === "svg") return QRCode.toString(canonical, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
  if (format === "png") {
    return QRCode.toBuffer(canonical, { type: "png", errorCorrectionLevel: "M", margin: 4, scale: 8 });
  }
  throw new PaymentRequestError(BAD_PAYMENT_REQUEST, `QR format ${String(format)} must be svg or png`, {
    field: "format",
    format,
  });
}

/** An amount: a plain decimal, or scientific notation denoting an exact integer; from 1 to 2^256 - 1. */
function amountOf(uri: string, text: string): bigint {
  let amount: bigint;
  if (DECIMAL.test(text)) {
    amount = BigInt(text);
  } else {
    const match = SCIENTIFIC.exec(text);
    if (match === null) {
      throw uriError(uri, "uint256", `the amount ${JSON.stringify(text)} is not a decimal integer`);
    }
    const [, whole = "", fraction = "", exponentText = "0"] = match;
    const digits = BigInt(whole + fraction);
    const shift = Number(exponentText) - fraction.length;
    if (shift >= 0) {
      amount = digits * 10n ** BigInt(shift);
    } else {
      const divisor = 10n ** BigInt(-shift);
      if (digits % divisor !== 0n) {
        throw uriError(uri, "uint256", `the amount ${text} is not an integer number of base units`);
      }
      amount = digits / divisor;
    }
  }
  if (amount < 1n || amount > MAX_UINT256) {
    throw uriError(uri, "uint256", `the amount ${text} must be from 1 to 2^256 - 1 base units`);
  }
  return amount;
}

function checksummed(uri: string, field: string, address: string): string {
  try {
    return getAddress(address);
  } catch (error) {
    throw uriError(uri, field, `the address ${address} has a wrong EIP-55 checksum`, error);
  }
}

function addressField(field: string, value: string): string {
  if (typeof value !== "string" || !HEX_ADDRESS.test(value)) {
    throw fieldError(field, `${field} ${String(value)} must be a 20-byte hex address`, { [field]: value });
  }
  let address: string;
  try {
    address = getAddress(value);
  } catch (error) {
    throw fieldError(field, `${field} ${value} has a wrong EIP-55 checksum`, { [field]: value }, error);
  }
  if (address === ZeroAddress) throw fieldError(field, `${field} must not be the zero address`, { [field]: value });
  return address;
}

function depositArgumentAddress(field: string, value: string): string {
  if (typeof value === "string" && HEX_ADDRESS.test(value)) {
    try {
      return getAddress(value);
    } catch {
      // A wrong checksum: refused below with the other malformed values.
    }
  }
  throw new PaymentRequestError(
    BAD_DEPOSIT_ARGUMENT,
    `${field} ${String(value)} must be a 20-byte hex address, all lower case or EIP-55 checksummed`,
    { field, value },
  );
}

function fieldError(field: string, message: string, values: Record<string, unknown>, cause?: unknown) {
  // BankChainError leaves an undefined cause out, here and in uriError.
  return new PaymentRequestError(BAD_PAYMENT_REQUEST, message, { field, ...values }, { cause });
}

function uriError(uri: string, field: string, reason: string, cause?: unknown): PaymentRequestError {
  return new PaymentRequestError(
    BAD_PAYMENT_REQUEST,
    `payment request ${JSON.stringify(uri)} refused: ${reason}`,
    { field, uri },
    { cause },
  );
}
