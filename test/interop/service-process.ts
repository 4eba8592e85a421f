/**
 * An interop service as a child process (`interop-process.ts`), for the tests
 * that kill it (`CrashableProcess`: start, crash at the first step with a
 * prefix, kill, stop).
 */
import { CrashableProcess } from "../helpers/crashable-process.js";
import type { ProcessConfig } from "./interop-process.js";

export type { Exit } from "../helpers/crashable-process.js";

export class ServiceProcess extends CrashableProcess {
  readonly config: ProcessConfig;

  constructor(config: ProcessConfig) {
    super({
      name: config.name,
      args: ["test/interop/interop-process.ts"],
      env: { INTEROP_TEST_CONFIG: JSON.stringify(config) },
      crashVariable: "INTEROP_CRASH_AT",
      ready: /interop-process ready role=\w+ url=(\S+)/,
    });
    this.config = config;
  }
}
