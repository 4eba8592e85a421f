/** A structured log line of the offline software: an event name and its details. */
export type OfflineLog = (event: string, details: Record<string, unknown>) => void;

/** `log` made safe to call from the merchant's and the sync's hot paths: a failing logger is ignored. */
export function guardedLog(log: OfflineLog | undefined): OfflineLog {
  return (event, details) => {
    try {
      log?.(event, details);
    } catch {
      // Logging must not take the merchant or the sync down.
    }
  };
}
