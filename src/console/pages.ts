/**
 * The console's panels, one function per page: each reads the chain (views
 * pinned to one block, named in `data-block`) and the services' APIs, and
 * renders figures that carry their source and link to the tx or record
 * behind them (see html.ts `figure`). A service that is down or lacks a
 * route shows as "service not available" on its panel; the rest still renders.
 */
import type { Log } from "ethers";

import { lineChart } from "./chart.js";
import type { ChainReader } from "./chain.js";
import { age, figure, h, money, pointer, recordHref, short, txHref, unavailable, type Html } from "./html.js";
import { bankNames, readBank, type BankSampler } from "./sampler.js";
import {
  billsSchema,
  campaignsSchema,
  cardMessagesSchema,
  cardStatsSchema,
  certificatesSchema,
  healthReplySchema,
  identitySchema,
  interopTransactionsSchema,
  invoicesSchema,
  ledgerSchema,
  paymentsSchema,
  relayerMessagesSchema,
  vouchersSchema,
  walletsSchema,
} from "./schemas.js";
import type { ServiceSources } from "./sources.js";

/** What the pages read. */
export interface PageContext {
  /** The services' own chain. */
  readonly chain: ChainReader;
  /** Every chain, the services' own first, then the interop peers. */
  readonly chains: () => readonly ChainReader[];
  readonly sources: ServiceSources;
  readonly sampler: BankSampler;
  readonly now: () => Date;
}

/** The bank agents' service names. */
export const BANK_AGENTS = ["bank-a", "bank-b"] as const;
/** The key holders' service names. */
export const KEY_HOLDERS = ["keys-holder1", "keys-holder2", "keys-holder3"] as const;

/** The link for a chain figure: the newest matching log's tx, else the contract's deployment tx. */
function chainHref(chain: ChainReader, contract: string, log: Log | undefined): string {
  const hash = log?.transactionHash ?? chain.deployments.get(contract).transactionHash;
  return hash === undefined ? `/tx/${chain.chainId}` : txHref(chain.chainId, hash);
}

function txLink(chainId: bigint | number, hash: string | null | undefined): Html {
  return hash === null || hash === undefined || !/^0x[0-9a-fA-F]{64}$/.test(hash)
    ? h`<span>none</span>`
    : h`<a class="mono" href="${txHref(chainId, hash)}">${short(hash)}</a>`;
}

/** A service count figure `counts.<key>` of a list reply at `path`. */
function countFigure(service: string, path: string, key: string, value: number): Html {
  return figure(value, String(value), { service, path, pointer: pointer("counts", key) }, recordHref(service, path));
}

function countsRow(service: string, path: string, counts: Record<string, number>): Html {
  const keys = Object.keys(counts).sort();
  if (keys.length === 0) return h`<p>none yet</p>`;
  return h`<table>
    <tr>
      ${keys.map((k) => h`<th>${k}</th>`)}
    </tr>
    <tr>
      ${keys.map((k) => h`<td class="n">${countFigure(service, path, k, counts[k]!)}</td>`)}
    </tr>
  </table>`;
}

/** The chain id in a CAIP-2 name (`eip155:31337`) or a plain number. */
function chainIdOf(name: string): number | undefined {
  const m = /^(?:eip155:)?(\d+)$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

// ---------------------------------------------------------------- banks

async function bankCard(ctx: PageContext, bank: string, block: number, withChart: boolean): Promise<Html> {
  const chain = ctx.chain;
  const read = await readBank(chain, bank, block);
  const [attested, minted] = await Promise.all([
    chain.latestLog("ReserveLedger", "ReserveAttested", [read.trust], block),
    chain.latestLog("BankToken", "Mint", [read.trust], block),
  ]);
  const attestedHref = chainHref(chain, "ReserveLedger", attested);
  const mintHref = chainHref(chain, "BankToken", minted);
  // What the bank may still mint: the smaller of the two limits, carrying the source of that one.
  const headroom = read.mintable.value < read.allowance.value ? read.mintable : read.allowance;
  const figures = h`<div class="cards">
    <div class="card">
      <b>attested reserve</b
      ><span class="big"
        >${figure(read.reserve.value, money(read.reserve.value), read.reserve.source, attestedHref)}</span
      >
      ${read.fresh.value ? h`<span class="ok">fresh</span>` : h`<span class="bad">stale</span>`}
    </div>
    <div class="card">
      <b>reserve ratio</b
      ><span class="big"
        >${figure(read.ratio.value, `${(Number(read.ratio.value) / 100).toFixed(2)} %`, read.ratio.source, attestedHref)}</span
      >
    </div>
    <div class="card">
      <b>outstanding issuance</b
      ><span class="big"
        >${figure(read.outstanding.value, money(read.outstanding.value), read.outstanding.source, mintHref)}</span
      >
    </div>
    <div class="card">
      <b>mint headroom (reserve)</b
      ><span class="big"
        >${figure(read.mintable.value, money(read.mintable.value), read.mintable.source, attestedHref)}</span
      >
    </div>
    <div class="card">
      <b>minter allowance</b
      ><span class="big"
        >${figure(read.allowance.value, money(read.allowance.value), read.allowance.source, mintHref)}</span
      >
    </div>
    <div class="card"><b>mint headroom now</b><span class="big">${figure(headroom.value, money(headroom.value), headroom.source, headroom === read.mintable ? attestedHref : mintHref)}</span> the smaller of the two</div>
  </div>`;
  if (!withChart)
    return h`<h2>${bank}</h2>
      ${figures}`;
  const samples = ctx.sampler.samples(bank);
  const money0 = (v: number): string =>
    v.toLocaleString("en", { maximumFractionDigits: Math.abs(v) >= 100_000 ? 0 : 2 });
  const over = (label: string, colour: string, value: (s: (typeof samples)[number]) => number) =>
    lineChart(
      `${bank}: ${label} (bUSD)`,
      [{ label, colour, points: samples.map((s) => ({ at: s.at, value: value(s) })) }],
      money0,
      { axis: "fit" },
    );
  const charts = [
    over("attested reserve", "#1f6feb", (s) => Number(s.reserve) / 100),
    over("outstanding issuance", "#d1242f", (s) => Number(s.outstanding) / 100),
    over("mint headroom", "#1a7f37", (s) => Number(s.mintable < s.allowance ? s.mintable : s.allowance) / 100),
    lineChart(
      `${bank}: reserve ratio (%)`,
      [{ label: "ratio", colour: "#8250df", points: samples.map((s) => ({ at: s.at, value: s.ratioBps / 100 })) }],
      (v) => v.toFixed(2),
      { axis: "fit" },
    ),
  ];
  return h`<h2>${bank} <span class="mono">${read.trust}</span></h2>
    ${figures}
    <div class="charts">${charts}</div>
    <p>
      ${samples.length} ${samples.length === 1 ? "sample" : "samples"} (the console's own record: a row whenever a
      figure changed).
    </p>`;
}

/** `/banks`: each bank's figures now and over time. */
export async function banksPage(ctx: PageContext): Promise<Html> {
  const block = await ctx.chain.provider.getBlockNumber();
  const cards = [];
  for (const bank of bankNames(ctx.chain)) cards.push(await bankCard(ctx, bank, block, true));
  return h`<p>
      Chain ${ctx.chain.chainId}, block ${block}. Headroom is what the bank may still mint: the smaller of the reserve's
      headroom (ReserveLedger.mintable) and its minter allowance (BankToken.minterAllowance).
    </p>
    ${cards}`;
}

// ---------------------------------------------------------------- token supply

async function chainSupply(chain: ChainReader): Promise<Html> {
  const block = await chain.provider.getBlockNumber();
  const [supply, outstanding, minted] = await Promise.all([
    chain.view<bigint>("BankToken", "totalSupply", [], block),
    chain.view<bigint>("ReserveLedger", "totalOutstanding", [], block),
    chain.latestLog("BankToken", "Mint", [null, null], block),
  ]);
  const mintHref = chainHref(chain, "BankToken", minted);
  const rows = [
    h`<tr>
      <th>total supply (BankToken.totalSupply)</th>
      <td class="n">${figure(supply.value, money(supply.value), supply.source, mintHref)}</td>
    </tr>`,
    h`<tr>
      <th>outstanding issuance (ReserveLedger.totalOutstanding)</th>
      <td class="n">${figure(outstanding.value, money(outstanding.value), outstanding.source, mintHref)}</td>
    </tr>`,
  ];
  if (chain.has("BurnMintLane")) {
    const lane = chain.address("BurnMintLane");
    const [imported, exported] = await Promise.all([
      chain.view<bigint>("ReserveLedger", "bridgeOf", [lane], block, 0),
      chain.view<bigint>("ReserveLedger", "bridgeOf", [lane], block, 1),
    ]);
    const laneHref = chainHref(chain, "BurnMintLane", undefined);
    rows.push(
      h`<tr>
        <th>imported over the lane</th>
        <td class="n">${figure(imported.value, money(imported.value), imported.source, laneHref)}</td>
      </tr>`,
      h`<tr>
        <th>exported over the lane</th>
        <td class="n">${figure(exported.value, money(exported.value), exported.source, laneHref)}</td>
      </tr>`,
    );
    const balanced = supply.value + exported.value === outstanding.value + imported.value;
    rows.push(
      h`<tr>
        <th>supply + exported = outstanding + imported</th>
        <td class="${balanced ? "ok" : "bad"}">${balanced ? "holds" : "does not hold"}</td>
      </tr>`,
    );
  }
  return h`<h2>chain ${chain.chainId} (${chain.deployments.network}), block ${block}</h2>
    <table>
      ${rows}
    </table>`;
}

/** `/tokens`: the token supply on each chain. */
export async function tokensPage(ctx: PageContext): Promise<Html> {
  const parts = [];
  for (const chain of ctx.chains()) parts.push(await chainSupply(chain));
  return h`${parts}`;
}

// ---------------------------------------------------------------- settlements

/** `/settlements`: payments by state with their age, per bank agent and direction; corridors on the chain. */
export async function settlementsPage(ctx: PageContext): Promise<Html> {
  const now = ctx.now();
  const parts: Html[] = [];
  for (const service of BANK_AGENTS) {
    const ledger = await ctx.sources.read(service, "bank-agent", "/ledger", ledgerSchema);
    parts.push(h`<h2>${service}</h2>`);
    if (ledger.ok) {
      parts.push(
        h`<p>
          ledger: assets
          ${figure(ledger.data.assets, money(ledger.data.assets), { service, path: ledger.path, pointer: "/assets" }, recordHref(service, ledger.path))},
          liabilities
          ${figure(ledger.data.liabilities, money(ledger.data.liabilities), { service, path: ledger.path, pointer: "/liabilities" }, recordHref(service, ledger.path))},
          ${ledger.data.balanced ? h`<span class="ok">balanced</span>` : h`<span class="bad">not balanced</span>`}
        </p>`,
      );
    } else {
      parts.push(unavailable(service, ledger.reason));
    }
    for (const direction of ["outbound", "inbound"] as const) {
      const got = await ctx.sources.read(service, "bank-agent", "/payments", paymentsSchema, { query: { direction } });
      if (!got.ok) {
        parts.push(h`<h3>${direction}</h3>`, unavailable(service, got.reason));
        continue;
      }
      const rows = got.data.items.map((p) => {
        const path = `/payments/${encodeURIComponent(p.id)}?direction=${direction}`;
        return h`<tr>
          <td><a class="mono" href="${recordHref(service, path)}">${short(p.id)}</a></td>
          <td>${p.status}</td>
          <td class="n">
            ${figure(p.amount, `${money(p.amount)} ${p.currency}`, { service, path, pointer: "/amount" }, recordHref(service, path))}
          </td>
          <td>${age(new Date(p.createdAt), now)}</td>
          <td>${txLink(ctx.chain.chainId, p.lastTx)}</td>
        </tr>`;
      });
      parts.push(
        h`<h3>${direction} by state</h3>`,
        countsRow(service, got.path, got.data.counts),
        rows.length === 0
          ? h``
          : h`<table>
              <tr>
                <th>payment</th>
                <th>state</th>
                <th>amount</th>
                <th>age</th>
                <th>last tx</th>
              </tr>
              ${rows}
            </table>`,
      );
    }
  }
  const chain = ctx.chain;
  const block = await chain.provider.getBlockNumber();
  const inFlight = await chain.view<bigint>("InterbankSettlement", "totalInFlight", [], block);
  const initiated = await chain.latestLog("InterbankSettlement", "SettlementInitiated", [null, null, null], block);
  const [debtors, creditors] = (await chain.contract("InterbankSettlement").getFunction("corridors")({
    blockTag: block,
  })) as [string[], string[]];
  const corridorRows = [];
  for (let i = 0; i < debtors.length; i += 1) {
    const debtor = debtors[i]!;
    const creditor = creditors[i]!;
    const c = (await chain.contract("InterbankSettlement").getFunction("corridor")(debtor, creditor, {
      blockTag: block,
    })) as { paused: boolean; inFlight: bigint };
    corridorRows.push(
      h`<tr>
        <td>${chain.nameOf(debtor) ?? debtor}</td>
        <td>${chain.nameOf(creditor) ?? creditor}</td>
        <td>${c.paused ? h`<span class="bad">paused</span>` : h`<span class="ok">open</span>`}</td>
        <td class="n">${money(c.inFlight)}</td>
        <td>
          ${c.paused ? "" : h`<a href="/actions/pause-corridor?debtor=${debtor}&amp;creditor=${creditor}">pause…</a>`}
        </td>
      </tr>`,
    );
  }
  parts.push(
    h`<h2>on chain ${chain.chainId}, block ${block}</h2>
      <p>
        in flight:
        ${figure(inFlight.value, money(inFlight.value), inFlight.source, chainHref(chain, "InterbankSettlement", initiated))}
      </p>
      <table>
        <tr>
          <th>debtor bank</th>
          <th>creditor bank</th>
          <th>state</th>
          <th>in flight</th>
          <th>operator action</th>
        </tr>
        ${corridorRows}
      </table>`,
  );
  return h`${parts}`;
}

// ---------------------------------------------------------------- bills

/** `/bills`: the bills board, a column per state, each by due date. */
export async function billsPage(ctx: PageContext): Promise<Html> {
  const got = await ctx.sources.read("bill-monitor", "bill-monitor", "/bills", billsSchema, { query: { limit: 500 } });
  if (!got.ok) return unavailable("bill-monitor", got.reason);
  const byState = new Map<string, typeof got.data.bills>();
  for (const bill of got.data.bills) byState.set(bill.stateName, [...(byState.get(bill.stateName) ?? []), bill]);
  if (byState.size === 0) return h`<p>no bills yet</p>`;
  const now = ctx.now().getTime() / 1000;
  const columns = [...byState.keys()].sort().map((state) => {
    const bills = byState.get(state)!.sort((a, b) => (a.maturity ?? Infinity) - (b.maturity ?? Infinity));
    const rows = bills.map((bill) => {
      const path = `/bills/${encodeURIComponent(bill.id)}`;
      const due = bill.maturity === null ? "no due date" : new Date(bill.maturity * 1000).toISOString().slice(0, 16);
      const overdue = bill.maturity !== null && bill.maturity < now && state !== "PAID";
      return h`<tr>
        <td><a class="mono" href="${recordHref("bill-monitor", `${path}/history`)}">${short(bill.id)}</a></td>
        <td class="n">
          ${figure(bill.amountDue, money(bill.amountDue), { service: "bill-monitor", path, pointer: "/amountDue" }, txHref(ctx.chain.chainId, bill.issuedTx))}
        </td>
        <td class="n">
          ${figure(bill.amountPaid, money(bill.amountPaid), { service: "bill-monitor", path, pointer: "/amountPaid" }, recordHref("bill-monitor", `${path}/history`))}
        </td>
        <td class="${overdue ? "bad" : ""}">${due}</td>
        <td class="mono">${short(bill.drawee ?? "")}</td>
        <td class="mono">${short(bill.payee ?? "")}</td>
      </tr>`;
    });
    return h`<h2>${state} (${bills.length})</h2>
      <table>
        <tr>
          <th>bill</th>
          <th>due</th>
          <th>paid</th>
          <th>due date</th>
          <th>drawee</th>
          <th>payee</th>
        </tr>
        ${rows}
      </table>`;
  });
  return h`${columns}${got.data.nextCursor === null ? "" : h`<p>showing the first 500 bills</p>`}`;
}

// ---------------------------------------------------------------- cards

/** `/cards`: the card gateway's traffic (messages per second, response codes) and its newest messages. */
export async function cardsPage(ctx: PageContext): Promise<Html> {
  const service = "card-gateway-api";
  const stats = await ctx.sources.read(service, "card-gateway", "/stats", cardStatsSchema, {
    query: { windowSeconds: 3600 },
  });
  if (!stats.ok) return unavailable(service, stats.reason);
  const s = stats.data;
  const src = (...tokens: string[]) => ({ service, path: stats.path, pointer: pointer(...tokens) });
  const messagesHref = recordHref(service, "/messages?limit=100");
  const codes = Object.keys(s.byResponseCode).sort();
  const mtis = Object.keys(s.byMti).sort();
  const parts: Html[] = [
    h`<p>
      last ${s.windowSeconds} s: ${figure(s.messages, String(s.messages), src("messages"), messagesHref)} messages,
      ${figure(s.perSecond, s.perSecond.toFixed(3), src("perSecond"), messagesHref)} per second
    </p>`,
    h`<h2>response codes</h2>
      ${
        codes.length === 0
          ? h`<p>none</p>`
          : h`<table>
              <tr>
                ${codes.map((c) => h`<th>${c}</th>`)}
              </tr>
              <tr>
                ${codes.map((c) => h`<td class="n">${figure(s.byResponseCode[c]!, String(s.byResponseCode[c]), src("byResponseCode", c), messagesHref)}</td>`)}
              </tr>
            </table>`
      }`,
    h`<h2>message types</h2>
      ${
        mtis.length === 0
          ? h`<p>none</p>`
          : h`<table>
              <tr>
                ${mtis.map((c) => h`<th>${c}</th>`)}
              </tr>
              <tr>
                ${mtis.map((c) => h`<td class="n">${figure(s.byMti[c]!, String(s.byMti[c]), src("byMti", c), messagesHref)}</td>`)}
              </tr>
            </table>`
      }`,
    lineChart(
      "messages per second",
      [
        {
          label: "messages",
          colour: "#1f6feb",
          points: s.series.map((p) => ({ at: new Date(p.second), value: p.count })),
        },
      ],
      (v) => v.toFixed(0),
    ),
  ];
  const messages = await ctx.sources.read(service, "card-gateway", "/messages", cardMessagesSchema, {
    query: { limit: 20 },
  });
  if (!messages.ok) {
    parts.push(unavailable(service, messages.reason));
  } else {
    const rows = messages.data.items.map(
      (m, i) =>
        h`<tr>
          <td>${String(m.id)}</td>
          <td>${m.mti}</td>
          <td>${m.operation ?? ""}</td>
          <td class="n">
            ${m.amount === null ? "" : figure(m.amount, money(m.amount), { service, path: messages.path, pointer: pointer("items", i, "amount") }, recordHref(service, messages.path))}
          </td>
          <td>${m.responseCode ?? ""}</td>
          <td>${m.state}</td>
          <td class="mono">${short(m.wallet ?? "")}</td>
          <td>${m.createdAt}</td>
        </tr>`,
    );
    parts.push(
      rows.length === 0
        ? h`<h2>newest messages</h2><p>none yet</p>`
        : h`<h2>newest messages</h2>
        <table>
          <tr>
            <th>id</th>
            <th>MTI</th>
            <th>operation</th>
            <th>amount</th>
            <th>code</th>
            <th>state</th>
            <th>wallet</th>
            <th>at</th>
          </tr>
          ${rows}
        </table>`,
    );
  }
  return h`${parts}`;
}

// ---------------------------------------------------------------- offline

/** `/offline`: the vault on the chain, and the merchant terminal's vouchers (pending until synced). */
export async function offlinePage(ctx: PageContext): Promise<Html> {
  const chain = ctx.chain;
  const parts: Html[] = [];
  if (chain.has("OfflineVault")) {
    const block = await chain.provider.getBlockNumber();
    const vault = chain.address("OfflineVault");
    const [held, epoch, deposited, redeemed] = await Promise.all([
      chain.view<bigint>("BankToken", "balanceOf", [vault], block),
      chain.view<bigint>("OfflineVault", "currentEpoch", [], block),
      chain.latestLog("OfflineVault", "Deposited", [null, null], block),
      chain.latestLog("OfflineVault", "VoucherRedeemed", [], block),
    ]);
    parts.push(
      h`<h2>vault on chain ${chain.chainId}, block ${block}</h2>
        <p>
          held in the vault:
          ${figure(held.value, money(held.value), held.source, chainHref(chain, "OfflineVault", deposited))}; epoch
          ${figure(epoch.value, String(epoch.value), epoch.source, chainHref(chain, "OfflineVault", redeemed))}; newest
          redeemed voucher: ${txLink(chain.chainId, redeemed?.transactionHash)}
        </p>`,
    );
  }
  const service = "offline-merchant";
  const all = await ctx.sources.read(service, "offline-merchant", "/vouchers", vouchersSchema);
  if (!all.ok) {
    parts.push(h`<h2>merchant terminal</h2>`, unavailable(service, all.reason));
    return h`${parts}`;
  }
  parts.push(h`<h2>merchant terminal: vouchers by state</h2>`, countsRow(service, all.path, all.data.counts));
  const pending = await ctx.sources.read(service, "offline-merchant", "/vouchers", vouchersSchema, {
    query: { state: "pending" },
  });
  if (pending.ok) {
    const rows = pending.data.items.map(
      (v, i) =>
        h`<tr>
          <td class="mono">${short(v.hash)}</td>
          <td class="mono">${short(v.payer)}</td>
          <td class="n">
            ${figure(v.amount, money(v.amount), { service, path: pending.path, pointer: pointer("items", i, "amount") }, recordHref(service, pending.path))}
          </td>
          <td>${age(new Date(v.acceptedAt), ctx.now())}</td>
        </tr>`,
    );
    parts.push(
      h`<h2>pending vouchers (stored, not yet submitted)</h2>`,
      rows.length === 0
        ? h`<p>none pending</p>`
        : h`<table>
            <tr>
              <th>voucher</th>
              <th>payer</th>
              <th>amount</th>
              <th>waiting</th>
            </tr>
            ${rows}
          </table>`,
    );
  }
  const settled = all.data.items.filter((v) => v.tx !== null).slice(0, 20);
  if (settled.length > 0) {
    parts.push(
      h`<h2>submitted</h2>
        <table>
          <tr>
            <th>voucher</th>
            <th>state</th>
            <th>tx</th>
          </tr>
          ${settled.map(
            (v) =>
              h`<tr>
                <td class="mono">${short(v.hash)}</td>
                <td>${v.state}</td>
                <td>${txLink(chain.chainId, v.tx)}</td>
              </tr>`,
          )}
        </table>`,
    );
  }
  return h`${parts}`;
}

// ---------------------------------------------------------------- interop

/** `/interop`: cross-chain transactions by state, and the relayer's messages in flight. */
export async function interopPage(ctx: PageContext): Promise<Html> {
  const parts: Html[] = [];
  const service = "interop-api";
  const got = await ctx.sources.read(service, "interop-api", "/transactions", interopTransactionsSchema);
  if (!got.ok) {
    parts.push(unavailable(service, got.reason));
  } else {
    const rows = got.data.items.map((t) => {
      const path = `/transactions/${encodeURIComponent(t.id)}`;
      const from = chainIdOf(t.source.chain);
      const to = t.destination === null ? undefined : chainIdOf(t.destination.chain);
      return h`<tr>
        <td><a class="mono" href="${recordHref(service, path)}">${short(t.id)}</a></td>
        <td>${figure(t.status, t.status, { service, path, pointer: "/status" }, recordHref(service, path))}</td>
        <td>${t.kind}</td>
        <td>${t.source.chain} ${from === undefined ? "" : txLink(from, t.source.txHash)}</td>
        <td>${t.destination?.chain ?? ""} ${to === undefined ? "" : txLink(to, t.destination?.txHash)}</td>
        <td>${age(new Date(t.createdAt), ctx.now())}</td>
      </tr>`;
    });
    parts.push(
      h`<h2>transactions by state</h2>`,
      countsRow(service, got.path, got.data.counts),
      rows.length === 0
        ? h`<p>no transactions</p>`
        : h`<table>
            <tr>
              <th>transaction</th>
              <th>state</th>
              <th>kind</th>
              <th>source tx</th>
              <th>destination tx</th>
              <th>age</th>
            </tr>
            ${rows}
          </table>`,
    );
  }
  const relayer = "interop-relayer";
  const open = await ctx.sources.read(relayer, "interop-relayer", "/messages", relayerMessagesSchema, {
    query: { state: "open" },
  });
  parts.push(h`<h2>messages in flight (relayer)</h2>`);
  if (!open.ok) {
    parts.push(unavailable(relayer, open.reason));
  } else if (open.data.items.length === 0) {
    parts.push(h`<p>none in flight</p>`);
  } else {
    parts.push(
      h`<table>
        <tr>
          <th>message</th>
          <th>state</th>
          <th>to chain</th>
          <th>attempts</th>
        </tr>
        ${open.data.items.map((m) => {
          const path = `/messages/${encodeURIComponent(m.id)}`;
          return h`<tr>
            <td><a class="mono" href="${recordHref(relayer, path)}">${short(m.id)}</a></td>
            <td>${m.state}</td>
            <td>${m.destinationChainId}</td>
            <td class="n">
              ${figure(m.attempts, String(m.attempts), { service: relayer, path, pointer: "/attempts" }, recordHref(relayer, path))}
            </td>
          </tr>`;
        })}
      </table>`,
    );
  }
  return h`${parts}`;
}

// ---------------------------------------------------------------- certificates

/** `/certificates`: the certificates issued, each with its attestation's tx. */
export async function certificatesPage(ctx: PageContext): Promise<Html> {
  const service = "certificates";
  const got = await ctx.sources.read(service, "certificates", "/certificates", certificatesSchema);
  if (!got.ok) return unavailable(service, got.reason);
  if (got.data.items.length === 0) return h`<p>no certificates issued yet</p>`;
  const rows = got.data.items.map((c) => {
    const path = `/certificates/${encodeURIComponent(c.uid)}`;
    return h`<tr>
      <td><a class="mono" href="${recordHref(service, path)}">${short(c.uid)}</a></td>
      <td class="mono">${c.subject}</td>
      <td>
        ${figure(c.level, c.level, { service, path, pointer: "/level" }, c.txHash === null ? recordHref(service, path) : txHref(ctx.chain.chainId, c.txHash))}
      </td>
      <td>${c.status}</td>
      <td>${String(c.issuedAt)}</td>
      <td>${String(c.expiresAt)}</td>
      <td>${txLink(ctx.chain.chainId, c.txHash)}</td>
    </tr>`;
  });
  return h`<table>
    <tr>
      <th>certificate</th>
      <th>subject</th>
      <th>level</th>
      <th>status</th>
      <th>issued</th>
      <th>expires</th>
      <th>tx</th>
    </tr>
    ${rows}
  </table>`;
}

// ---------------------------------------------------------------- rewards

/** `/rewards`: each campaign's reward epochs: the roots the oracles signed, proposed and finalised. */
export async function rewardsPage(ctx: PageContext): Promise<Html> {
  const service = "rewards";
  const got = await ctx.sources.read(service, "rewards", "/campaigns", campaignsSchema);
  if (!got.ok) return unavailable(service, got.reason);
  if (got.data.campaigns.length === 0) return h`<p>no campaigns</p>`;
  return h`${got.data.campaigns.map((campaign) => {
    const rows = campaign.roots.slice(0, 30).map((root) => {
      const path = `/campaigns/${campaign.campaignId}/roots/${root.epoch}`;
      const index = campaign.roots.filter((r) => r.epoch === root.epoch).indexOf(root);
      return h`<tr>
        <td>${root.fromEpoch === root.epoch ? root.epoch : `${root.fromEpoch}–${root.epoch}`}</td>
        <td>${root.state}</td>
        <td class="n">
          ${figure(root.total, money(root.total), { service, path, pointer: pointer("roots", index, "total") }, root.txHash === null ? recordHref(service, path) : txHref(ctx.chain.chainId, root.txHash))}
        </td>
        <td class="n">${root.records}</td>
        <td>${txLink(ctx.chain.chainId, root.txHash)}</td>
      </tr>`;
    });
    if (rows.length === 0) {
      return h`<h2>campaign <span class="mono">${short(campaign.campaignId)}</span></h2><p>no reward roots yet</p>`;
    }
    return h`<h2>campaign <span class="mono">${short(campaign.campaignId)}</span></h2>
      <table>
        <tr>
          <th>epoch</th>
          <th>root state</th>
          <th>total paid</th>
          <th>records</th>
          <th>tx</th>
        </tr>
        ${rows}
      </table>`;
  })}`;
}

// ---------------------------------------------------------------- checkout

/** `/checkout`: the checkout's invoices by state. */
export async function checkoutPage(ctx: PageContext): Promise<Html> {
  const service = "checkout";
  const got = await ctx.sources.read(service, "checkout", "/invoices", invoicesSchema);
  if (!got.ok) return unavailable(service, got.reason);
  const rows = got.data.items.map((i) => {
    const path = `/invoices/${encodeURIComponent(i.intentId)}`;
    return h`<tr>
      <td><a class="mono" href="${recordHref(service, path)}">${short(i.intentId)}</a></td>
      <td>${figure(i.status, i.status, { service, path, pointer: "/status" }, recordHref(service, path))}</td>
      <td>${i.sku}</td>
      <td class="n">${money(i.tokenAmount)}</td>
      <td>${i.purchaseState}</td>
      <td class="mono">${short(i.payer ?? "")}</td>
      <td>${age(new Date(i.createdAt), ctx.now())}</td>
    </tr>`;
  });
  return h`<h2>invoices by state</h2>
    ${countsRow(service, got.path, got.data.counts)}
    ${
      rows.length === 0
        ? h`<p>no invoices</p>`
        : h`<table>
            <tr>
              <th>invoice</th>
              <th>state</th>
              <th>sku</th>
              <th>amount</th>
              <th>purchase</th>
              <th>payer</th>
              <th>age</th>
            </tr>
            ${rows}
          </table>`
    }`;
}

// ---------------------------------------------------------------- keys

/** `/keys`: each key holder's health, identity and the shares it keeps. */
export async function keysPage(ctx: PageContext): Promise<Html> {
  const rows = [];
  for (const service of KEY_HOLDERS) {
    const [health, identity, wallets] = await Promise.all([
      ctx.sources.read(service, "keys-holder", "/health", healthReplySchema),
      ctx.sources.read(service, "keys-holder", "/identity", identitySchema),
      ctx.sources.read(service, "keys-holder", "/wallets", walletsSchema),
    ]);
    rows.push(
      h`<tr>
        <th>${service}</th>
        <td>
          ${health.ok ? figure(health.data.ok, health.data.ok ? "healthy" : "failing", { service, path: health.path, pointer: "/ok" }, recordHref(service, health.path)) : h`<span class="bad">${health.reason}</span>`}
        </td>
        <td class="mono">
          ${identity.ok ? figure(identity.data.address, identity.data.address, { service, path: identity.path, pointer: "/address" }, recordHref(service, identity.path)) : identity.reason}
        </td>
        <td>
          ${wallets.ok ? h`<a href="${recordHref(service, wallets.path)}">${wallets.data.items.length} shares</a>` : unavailable(service, wallets.reason)}
        </td>
      </tr>`,
    );
  }
  return h`<table>
    <tr>
      <th>holder</th>
      <th>health</th>
      <th>signing address</th>
      <th>shares kept</th>
    </tr>
    ${rows}
  </table>`;
}

// ---------------------------------------------------------------- overview

/** `/`: the headline figures of every panel, and the services the console reads. */
export async function overviewPage(ctx: PageContext): Promise<Html> {
  const block = await ctx.chain.provider.getBlockNumber();
  const banks = [];
  for (const bank of bankNames(ctx.chain)) banks.push(await bankCard(ctx, bank, block, false));
  const supplies = [];
  for (const chain of ctx.chains()) supplies.push(await chainSupply(chain));
  const services = ctx.sources.names().map((name) => {
    const url = ctx.sources.url(name);
    return h`<li>${url === undefined ? name : h`<a href="${recordHref(name, "/health")}">${name}</a>`}</li>`;
  });
  return h`<p>
      Chain ${ctx.chain.chainId}, block ${block}. Every figure links to the transaction or record behind it.
    </p>
    ${banks}
    <h2>token supply</h2>
    ${supplies}
    <h2>services read</h2>
    <ul>
      ${services}
    </ul>`;
}
