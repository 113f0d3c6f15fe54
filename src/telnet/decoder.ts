// A streaming telnet decoder: bytes in, split anywhere, events out. It keeps no more than one
// subnegotiation in memory and gives up (one error event, then silence) past a size limit or on
// bytes that are not telnet, so a hostile peer cannot make it grow or loop.
import { Command, type Verb, verbOf } from "./codes.ts";

export type TelnetEvent =
  | { type: "data"; bytes: Uint8Array }
  | { type: "option"; verb: Verb; option: number }
  /** A bare command: NOP, BRK, GA, AYT, … */
  | { type: "command"; command: number }
  | { type: "subnegotiation"; option: number; payload: Uint8Array }
  | { type: "error"; reason: string; message: string };

const enum State {
  Data,
  Iac,
  Verb,
  SbOption,
  Sb,
  SbIac,
  Failed,
}

export interface TelnetDecoderOptions {
  /** The longest subnegotiation payload accepted; default 4096. */
  maxSubnegotiationBytes?: number;
}

export class TelnetDecoder {
  private state = State.Data;
  private verb: Verb = "WILL";
  private sbOption = 0;
  private sb: Uint8Array;
  private sbLength = 0;
  private readonly max: number;

  constructor(opts: TelnetDecoderOptions = {}) {
    this.max = opts.maxSubnegotiationBytes ?? 4096;
    this.sb = new Uint8Array(Math.min(this.max, 256));
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  push(chunk: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    if (this.failed) return events;
    // Runs of plain data become one event each: [runStart, i) is pending data in this chunk.
    let runStart = -1;
    const flush = (end: number) => {
      if (runStart >= 0 && end > runStart) events.push({ type: "data", bytes: chunk.slice(runStart, end) });
      runStart = -1;
    };
    const fail = (reason: string, message: string) => {
      this.state = State.Failed;
      events.push({ type: "error", reason, message });
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (this.state) {
        case State.Data:
          if (b === Command.IAC) {
            flush(i);
            this.state = State.Iac;
          } else if (runStart < 0) runStart = i;
          break;
        case State.Iac: {
          if (b === Command.IAC) {
            events.push({ type: "data", bytes: Uint8Array.of(Command.IAC) });
            this.state = State.Data;
            break;
          }
          const verb = verbOf(b);
          if (verb) {
            this.verb = verb;
            this.state = State.Verb;
          } else if (b === Command.SB) this.state = State.SbOption;
          else if (b === Command.SE) fail("stray-se", "IAC SE without IAC SB");
          else if (b > Command.SE) {
            events.push({ type: "command", command: b });
            this.state = State.Data;
          } else fail("bad-command", `IAC followed by ${b}, which is no telnet command`);
          break;
        }
        case State.Verb:
          events.push({ type: "option", verb: this.verb, option: b });
          this.state = State.Data;
          break;
        case State.SbOption:
          this.sbOption = b;
          this.sbLength = 0;
          this.state = State.Sb;
          break;
        case State.Sb:
          if (b === Command.IAC) this.state = State.SbIac;
          else if (!this.append(b)) fail("subnegotiation-too-long", `subnegotiation of option ${this.sbOption} exceeds ${this.max} bytes`);
          break;
        case State.SbIac:
          if (b === Command.IAC) {
            this.state = State.Sb;
            if (!this.append(b)) fail("subnegotiation-too-long", `subnegotiation of option ${this.sbOption} exceeds ${this.max} bytes`);
          } else if (b === Command.SE) {
            events.push({ type: "subnegotiation", option: this.sbOption, payload: this.sb.slice(0, this.sbLength) });
            this.state = State.Data;
          } else fail("bad-subnegotiation", `IAC ${b} inside a subnegotiation of option ${this.sbOption}`);
          break;
      }
      if (this.failed) return events;
    }
    flush(chunk.length);
    return events;
  }

  private append(b: number): boolean {
    if (this.sbLength >= this.max) return false;
    if (this.sbLength === this.sb.length) {
      const grown = new Uint8Array(Math.min(this.max, this.sb.length * 2));
      grown.set(this.sb);
      this.sb = grown;
    }
    this.sb[this.sbLength++] = b;
    return true;
  }
}
