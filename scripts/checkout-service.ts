/**
 * Runs the checkout service on its own against a running chain, for the tests that kill it: what `npm start`
 * runs (without its retailer), plus a fault-injection point.
 *
 *   tsx scripts/checkout-service.ts
 *
 * The chain, deployments and data folder as `runServiceProcess` (src/chain/process.ts) takes them, the retailer
 * from `CHECKOUT_RETAILER_URL`; the rest as in `src/commerce/service.ts`. Prints `checkout ready url=<url>` once
 * it serves, and stops cleanly on SIGINT/SIGTERM.
 *
 * Fault injection: `CHECKOUT_CRASH_AT=<point>` (`before-order`, `after-order`, `before-capture`, `before-void`)
 * kills the process with SIGKILL the first time the engine reaches that point: `after-order` is right after the
 * retailer answered an order and before the answer is written down.
 */
import { crashAtStep, runServiceProcess } from "../src/chain/process.js";
import { checkoutService } from "../src/commerce/service.js";

runServiceProcess({
  name: "checkout-service",
  factory: () => checkoutService({ env: process.env, onStep: crashAtStep(process.env.CHECKOUT_CRASH_AT) }),
  ready: (service) => `checkout ready url=${service.url ?? ""}`,
});
