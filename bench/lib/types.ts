import type { Cleanup } from './cleanup';

/** A target a figure is judged against. `of` says whether the ratio or the absolute value is compared. */
export interface Target {
  op: '>=' | '<=' | '<' | '>';
  value: number;
  of: 'ratio' | 'value';
}

/** One line of the final table. */
export interface Row {
  /** Short metric name, e.g. "full login / bare argon2 bound". */
  metric: string;
  /** The measured figure, absolute. */
  value: number;
  unit: string;
  /** What the ratio is taken against (measured in the same run). */
  baseline?: { label: string; value: number; unit: string };
  /** value / baseline (or as the section defines it; see `ratioNote`). */
  ratio?: number;
  target?: Target;
  /** Shown after the verdict, e.g. "median of 3". */
  note?: string;
}

export interface SectionResult {
  rows: Row[];
  /** Free-form lines printed under the table: breakdowns, profiles, caveats. */
  details: string[];
}

export interface BenchOptions {
  /** Multiplies every measuring window (0.5 for a quick smoke run). */
  timeScale: number;
  /**
   * Extra runs that show where the time goes when a target is missed: a CPU
   * profile of the server(s), and for the login a what-if run. 'auto' = only
   * when the section's target is missed.
   */
  diagnose: boolean | 'auto';
}

export interface BenchContext {
  options: BenchOptions;
  cleanup: Cleanup;
  /** Progress line to stderr. */
  log(message: string): void;
  /** Figures one section leaves for later ones (e.g. `boundPerSec` from the login section). */
  shared: Record<string, number>;
  /** Seconds scaled by `options.timeScale`, in ms. */
  ms(seconds: number): number;
}

/** A benchmark section: runs on its own (its own Redis, its own children) and reports rows. */
export interface Section {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<SectionResult>;
}
