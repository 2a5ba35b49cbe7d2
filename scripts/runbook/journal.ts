/**
 * The journal of a procedure run: a JSON file in the state directory that records every completed
 * step with its output, so an interrupted cutover or rollback resumes from the last good step
 * (`--resume`) instead of repeating a backup or a copy. Written atomically (temp file + rename):
 * a crash while writing leaves the previous journal, never half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export interface JournalEntry {
  readonly name: string;
  readonly status: "done" | "failed";
  readonly startedAt: string;
  readonly durationMs: number;
  /** What the step's action returned (done) — later steps read it after a resume. */
  readonly output?: JsonValue;
  /** The failure message (failed). */
  readonly error?: string;
}

export interface JournalData {
  readonly version: 1;
  readonly procedure: string;
  readonly stack: string;
  readonly createdAt: string;
  updatedAt: string;
  /** True once every step is done; a finished journal is replaced by the next run. */
  finished: boolean;
  entries: JournalEntry[];
}

/** `<stateDir>/<procedure>-<stack>.journal.json`. */
export function journalPath(stateDir: string, procedure: string, stack: string): string {
  return join(stateDir, `${procedure}-${stack}.journal.json`);
}

export class Journal {
  private constructor(
    readonly path: string,
    private readonly data: JournalData,
  ) {}

  /** A new, empty journal (not yet written). */
  static create(path: string, procedure: string, stack: string, now = new Date()): Journal {
    const at = now.toISOString();
    return new Journal(path, {
      version: 1,
      procedure,
      stack,
      createdAt: at,
      updatedAt: at,
      finished: false,
      entries: [],
    });
  }

  /** The journal at `path`, or undefined when there is none. Throws on a file that is not a journal. */
  static load(path: string): Journal | undefined {
    if (!existsSync(path)) return undefined;
    let data: JournalData;
    try {
      data = JSON.parse(readFileSync(path, "utf8")) as JournalData;
    } catch (err) {
      throw new Error(
        `journal ${path} is not valid JSON (${(err as Error).message}): move it away to start over`,
      );
    }
    if (data.version !== 1 || !Array.isArray(data.entries)) {
      throw new Error(`journal ${path} has an unknown format: move it away to start over`);
    }
    return new Journal(path, data);
  }

  get procedure(): string {
    return this.data.procedure;
  }
  get stack(): string {
    return this.data.stack;
  }
  get createdAt(): string {
    return this.data.createdAt;
  }
  get finished(): boolean {
    return this.data.finished;
  }
  get entries(): readonly JournalEntry[] {
    return this.data.entries;
  }

  /** Names of the steps recorded as done, in order. */
  doneSteps(): string[] {
    return this.data.entries.filter((e) => e.status === "done").map((e) => e.name);
  }

  /** The output a done step recorded. */
  output(name: string): JsonValue | undefined {
    return this.data.entries.find((e) => e.name === name && e.status === "done")?.output;
  }

  /** Records a step's end; a later record of the same step replaces an earlier failure. */
  record(entry: JournalEntry): void {
    this.data.entries = this.data.entries.filter((e) => e.name !== entry.name);
    this.data.entries.push(entry);
    this.save();
  }

  markFinished(): void {
    this.data.finished = true;
    this.save();
  }

  save(now = new Date()): void {
    this.data.updatedAt = now.toISOString();
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
