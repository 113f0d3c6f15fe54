// The contract between the console pieces, which must not know each other: the vSPC server
// (src/vspc) hands each VM's serial port over as a BytePort, the console hub (src/bmc) fans it
// out to watchers (IPMI SOL, `esxkit console`, the log), and none of them imports another.

/** One end of a duplex byte stream: a VM's serial port as its holder sees it. */
export interface BytePort {
  /**
   * Sends bytes toward the far end. Returns false when they were not taken (the port is
   * closed); a port that is only slow buffers (bounded) and still returns true.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Sends a serial break toward the far end, in order with write()'s bytes. Optional: a port
   * that cannot carry a break leaves it out. Returns false when the break was not taken.
   */
  sendBreak?(): boolean;
  /** Sets the one receiver of bytes coming from the far end (a later call replaces it). */
  onData(receiver: (bytes: Uint8Array) => void): void;
  /** Called once, when the port closes for good, with a short reason for the log. */
  onClose(receiver: (reason: string) => void): void;
  /** Closes the port from this side. Idempotent. */
  close(reason?: string): void;
}
