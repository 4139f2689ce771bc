/** An answer, ready to write: the protocol modules build these, the server writes them. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The AWS error code when this is an error answer (for the call log). */
  readonly errorCode?: string;
}
