/**
 * The operator console (`npm start` runs it last, on 127.0.0.1:8600): web
 * pages rendered on the server from the chain and the services' HTTP APIs,
 * one per panel (docs/console.md), a page per transaction with its logs
 * decoded, and two guarded operator actions (freeze an account, pause a
 * corridor). It samples the banks' figures into its own SQLite file for the
 * charts. Apart from the two actions it changes nothing.
 *
 * Environment: `CONSOLE_SETTINGS` below (docs/operations.md).
 */
import { z } from "zod";

import type { ChainConnection } from "../chain/config.js";
import type { Deployments } from "../chain/deployments.js";
import { dutyWallet, DutyKeyError } from "../chain/duty-wallet.js";
import { HttpError, JsonHttpServer, route, type Reply, type Route } from "../chain/http.js";
import { isDevnet } from "../chain/networks.js";
import {
  openDeploymentStore,
  serviceOwningStore,
  type Service,
  type ServiceContext,
  type ServiceFactory,
} from "../chain/service.js";
import { int, settingsSchema } from "../chain/settings.js";
import { messageOf } from "../errors.js";
import { argsOf, Confirmations, confirmPage, perform, type ActionContext, type ActionName } from "./actions.js";
import { ChainReader } from "./chain.js";
import { layout, PANELS, type Html } from "./html.js";
import {
  banksPage,
  billsPage,
  cardsPage,
  certificatesPage,
  checkoutPage,
  interopPage,
  keysPage,
  offlinePage,
  overviewPage,
  rewardsPage,
  settlementsPage,
  tokensPage,
  type PageContext,
} from "./pages.js";
import { BankSampler } from "./sampler.js";
import { ServiceSources, type ServiceEntry } from "./sources.js";
import { recordPage, txPage } from "./tx.js";

export const DEFAULT_CONSOLE_PORT = 8600;

/** The console's environment. */
export const CONSOLE_SETTINGS = settingsSchema("console", {
  CONSOLE_PORT: int("port of the operator console on 127.0.0.1 (0 picks a free one)", DEFAULT_CONSOLE_PORT, 0, 65_535),
  CONSOLE_SAMPLE_SECONDS: int(
    "pause between two samples of the banks' reserve, ratio, outstanding issuance and headroom (s) for the charts",
    5,
    1,
    3_600,
  ),
});

/** Another chain the console reads (the interop peers `npm start` opened). */
export interface ConsolePeer {
  readonly chain: ChainConnection;
  readonly deployments: Deployments;
}

export interface ConsoleServiceOptions {
  /** The chains beside the context's own (asked at each request). */
  readonly peers?: () => readonly ConsolePeer[];
  /** The services running now, whose URLs the console reads at each request. */
  readonly services: () => readonly ServiceEntry[];
  /** Environment for the port and the sampling interval (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => Date;
}

const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  // No script at all; styles inline; the favicon is a data: URL; forms post to the console only.
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};

function htmlReply(title: string, current: string, body: Html, status = 200): Reply {
  return { status, body: layout(title, current, body), headers: HTML_HEADERS };
}

const HTML_RESPONSE = { 200: { description: "an HTML page", contentType: "text/html" } } as const;

/** The console's route table (exported for its tests). */
export function consoleRoutes(ctx: PageContext, actions: ActionContext, confirmations: Confirmations): Route[] {
  const pages: Record<string, (c: PageContext) => Promise<Html>> = {
    "/": overviewPage,
    "/banks": banksPage,
    "/tokens": tokensPage,
    "/settlements": settlementsPage,
    "/bills": billsPage,
    "/cards": cardsPage,
    "/offline": offlinePage,
    "/interop": interopPage,
    "/certificates": certificatesPage,
    "/rewards": rewardsPage,
    "/checkout": checkoutPage,
    "/keys": keysPage,
  };
  const routes: Route[] = PANELS.map((panel) =>
    route({
      method: "GET",
      path: panel.path,
      summary: `console page: ${panel.title}`,
      responses: HTML_RESPONSE,
      handle: async () => htmlReply(panel.title, panel.path, await pages[panel.path]!(ctx)),
    }),
  );
  const actionQuery = z.object({
    account: z.string().max(100).optional(),
    debtor: z.string().max(100).optional(),
    creditor: z.string().max(100).optional(),
    confirm: z.string().max(100).optional(),
  });
  for (const action of ["freeze", "pause-corridor"] as const satisfies readonly ActionName[]) {
    const title = action === "freeze" ? "Freeze an account" : "Pause a corridor";
    routes.push(
      route({
        method: "GET",
        path: `/actions/${action}`,
        summary: `console: confirm before ${title.toLowerCase()}`,
        query: actionQuery,
        responses: { ...HTML_RESPONSE, 503: { description: "the duty's key is not configured here" } },
        handle: async ({ query }) =>
          htmlReply(title, "", await confirmPage(actions, confirmations, action, argsOf(action, query))),
      }),
      route({
        method: "POST",
        path: `/actions/${action}`,
        summary: `console: ${title.toLowerCase()} (needs the confirmation code of its GET page)`,
        query: actionQuery,
        responses: {
          ...HTML_RESPONSE,
          403: { description: "not confirmed on the action's page" },
          409: { description: "the chain would refuse it now" },
          502: { description: "the transaction failed" },
        },
        handle: async ({ query }) =>
          htmlReply(title, "", await perform(actions, confirmations, action, argsOf(action, query), query.confirm)),
      }),
    );
  }
  routes.push(
    route({
      method: "GET",
      path: "/tx/:chainId/:hash",
      summary: "console: a transaction's receipt with its logs decoded against the deployed ABIs",
      params: z.object({ chainId: z.string().regex(/^\d{1,12}$/), hash: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
      responses: { ...HTML_RESPONSE, 404: { description: "no such chain or transaction" } },
      handle: async ({ params }) => {
        const chain = ctx.chains().find((c) => c.chainId === BigInt(params.chainId));
        if (chain === undefined)
          throw new HttpError(404, "CONSOLE_UNKNOWN_CHAIN", `the console reads no chain ${params.chainId}`);
        return htmlReply(`Transaction on chain ${params.chainId}`, "", await txPage(chain, params.hash));
      },
    }),
    route({
      method: "GET",
      path: "/record/:service",
      summary: "console: one GET on a running service (its own base URL only), shown as JSON",
      params: z.object({ service: z.string().regex(/^[a-z0-9-]{1,40}$/) }),
      query: z.object({ path: z.string().max(500) }),
      responses: { ...HTML_RESPONSE, 404: { description: "no such service" } },
      handle: async ({ params, query }) =>
        htmlReply(`Record of ${params.service}`, "", await recordPage(ctx.sources, params.service, query.path)),
    }),
  );
  return routes;
}

/** The console's factory for `npm start` (appended after the interop services). */
export function consoleService(options: ConsoleServiceOptions): ServiceFactory {
  const name = "console";
  return {
    name,
    async create(context: ServiceContext): Promise<Service> {
      const env = options.env ?? process.env;
      const { chain } = context;
      const settings = CONSOLE_SETTINGS.read(env, { devnet: isDevnet(chain.chainId) });
      const own = new ChainReader({
        provider: chain.provider,
        chainId: chain.chainId,
        deployments: context.deployments,
      });
      const peerReaders = new Map<bigint, ChainReader>();
      const chains = (): ChainReader[] => [
        own,
        ...(options.peers?.() ?? []).map((peer) => {
          let reader = peerReaders.get(peer.chain.chainId);
          if (reader === undefined) {
            reader = new ChainReader({
              provider: peer.chain.provider,
              chainId: peer.chain.chainId,
              deployments: peer.deployments,
            });
            peerReaders.set(peer.chain.chainId, reader);
          }
          return reader;
        }),
      ];
      const store = await openDeploymentStore(context, name, "ReserveLedger");
      return serviceOwningStore(name, store, () => {
        const sampler = new BankSampler(store, own, options.now);
        const pageContext: PageContext = {
          chain: own,
          chains,
          sources: new ServiceSources(options.services),
          sampler,
          now: options.now ?? (() => new Date()),
        };
        const actions: ActionContext = {
          chain: own,
          async signer(duty) {
            try {
              return await dutyWallet(chain, duty);
            } catch (error) {
              if (error instanceof DutyKeyError) return undefined;
              throw error;
            }
          },
        };
        const http = new JsonHttpServer({
          title: "bank-chain operator console",
          version: "1.0.0",
          description: "HTML pages for operators (docs/console.md); only the two /actions POSTs change state",
          host: "127.0.0.1",
          port: settings.CONSOLE_PORT,
          routes: consoleRoutes(pageContext, actions, new Confirmations()),
          log: context.log,
          health: { blockNumber: () => chain.provider.getBlockNumber(), checkDatabase: () => store.check() },
        });
        let timer: NodeJS.Timeout | undefined;
        let sampling: Promise<void> | undefined;
        let failing = false;
        const tick = (): void => {
          if (sampling !== undefined) return;
          sampling = sampler
            .sample()
            .then(() => {
              if (failing) context.log("console: sampling works again");
              failing = false;
            })
            .catch((error: unknown) => {
              if (!failing) context.log(`console: sampling the banks failed: ${messageOf(error)}`);
              failing = true;
            })
            .finally(() => {
              sampling = undefined;
            });
        };
        return {
          url: () => http.url ?? `http://127.0.0.1:${settings.CONSOLE_PORT}`,
          async start() {
            // A first sample now; one that fails is logged, as later ones are: the pages do not need it.
            tick();
            await http.start();
            timer = setInterval(tick, settings.CONSOLE_SAMPLE_SECONDS * 1000);
          },
          async stop() {
            if (timer !== undefined) clearInterval(timer);
            await sampling;
            await http.stop();
          },
        };
      });
    },
  };
}
