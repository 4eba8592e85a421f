/**
 * `bank-chain bills …`: bill commands that read the chain.
 *
 *   bills history <id>   every event of a bill, replayed from the BillRegistry's logs
 */
import type { Command } from "commander";

import { readDeployments } from "../chain/deployments.js";
import { output, withChain, type GlobalOptions } from "../cli.js";
import { BankChainError } from "../errors.js";

/** A `bills` command was given a bad argument or found nothing. */
export class BillCliError extends BankChainError {}

const BILL_ID = /^0x[0-9a-fA-F]{64}$/;

/** Adds the `bills` group to `program`. */
export function addBillsCommands(program: Command): void {
  const bills = program.command("bills").description("bills of exchange and e-invoices in the BillRegistry");
  bills
    .command("history")
    .description("print a bill's state, its events and any anomaly, replayed from the chain's logs")
    .argument("<id>", "the bill id (bytes32 hex)")
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      if (!BILL_ID.test(id)) {
        throw new BillCliError("BILL_CLI_BAD_ID", `bill id must be 0x and 64 hex digits, got "${id}"`, { id });
      }
      // Loaded here, not at startup: node:sqlite warns on load, and only this command needs it.
      const [{ Store }, { BillMonitor }] = await Promise.all([import("../store/store.js"), import("./monitor.js")]);
      await withChain(options, async (chain) => {
        const record = readDeployments(chain.network).get("BillRegistry");
        const store = Store.open({ path: ":memory:" });
        try {
          const monitor = new BillMonitor({
            provider: chain.provider,
            store,
            registry: record.address,
            confirmations: 0,
            fromBlock: record.blockNumber ?? 0,
          });
          await monitor.poll();
          const bill = monitor.bill(id);
          if (bill === undefined) {
            throw new BillCliError("BILL_NOT_FOUND", `there is no bill ${id} in the BillRegistry`, { id });
          }
          const history = monitor.history(id);
          const anomalies = monitor.anomalies(id);
          output(options, { bill, history, anomalies }, () =>
            [
              `bill:    ${bill.id}`,
              `state:   ${bill.stateName}`,
              `paid:    ${bill.amountPaid} of ${bill.amountDue}`,
              `holder:  ${bill.holder ?? "-"}`,
              "history:",
              ...history.map(
                (h) =>
                  `  block ${h.block} ${h.event}` +
                  (h.operationName === null ? "" : ` ${h.operationName} by ${h.actor ?? "-"}`) +
                  (Object.keys(h.detail).length === 0 ? "" : ` ${JSON.stringify(h.detail)}`),
              ),
              `anomalies: ${anomalies.length === 0 ? "none" : ""}`,
              ...anomalies.map((a) => `  ${a.kind} block ${a.block ?? "-"} ${JSON.stringify(a.detail)}`),
            ].join("\n"),
          );
        } finally {
          store.close();
        }
      });
    });
}
