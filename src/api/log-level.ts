// The web node's log level, changeable while it runs (Concourse's GET/PUT /api/v1/log-level,
// atc/api/loglevelserver). pino copies a level into each child logger when the child is made,
// so setting the root's level would miss the loggers the components already hold; instead the
// root logs everything and a logMethod hook, which every child inherits, drops lines below the
// current threshold.
import type { LoggerOptions } from 'pino';

/** Concourse's levels (atc.LogLevel), the words fly and the API use. */
export const CONCOURSE_LOG_LEVELS = ['debug', 'info', 'error', 'fatal'] as const;
export type ConcourseLogLevel = (typeof CONCOURSE_LOG_LEVELS)[number];

/** pino's numbers for its level names. */
const PINO_LEVEL: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export interface LogLevelControl {
  /** the level as Concourse names it (concourseLevelOf) */
  get(): ConcourseLogLevel;
  set(level: ConcourseLogLevel): void;
}

/** The Concourse name of a pino level: the nearest of Concourse's at or below it (trace → debug, warn → info). */
export function concourseLevelOf(pinoLevel: number): ConcourseLogLevel {
  if (pinoLevel >= PINO_LEVEL.fatal!) return 'fatal';
  if (pinoLevel >= PINO_LEVEL.error!) return 'error';
  if (pinoLevel >= PINO_LEVEL.info!) return 'info';
  return 'debug';
}

export function isConcourseLogLevel(text: string): text is ConcourseLogLevel {
  return (CONCOURSE_LOG_LEVELS as readonly string[]).includes(text);
}

/** A threshold shared by a pino root logger and all its children. */
export class LiveLogLevel implements LogLevelControl {
  private threshold: number;

  /** initial: a pino level name (`jetway web --log-level`). */
  constructor(initial: string) {
    const n = PINO_LEVEL[initial];
    if (n === undefined) throw new Error(`unknown log level ${JSON.stringify(initial)}: one of ${Object.keys(PINO_LEVEL).join(', ')}`);
    this.threshold = n;
  }

  get(): ConcourseLogLevel {
    return concourseLevelOf(this.threshold);
  }

  set(level: ConcourseLogLevel): void {
    this.threshold = PINO_LEVEL[level]!;
  }

  /** Whether a line at pino level number `level` is written now. */
  enabled(level: number): boolean {
    return level >= this.threshold;
  }

  /** pino options for the root logger: everything reaches the hook, which keeps what the threshold allows. */
  pinoOptions(): Pick<LoggerOptions, 'level' | 'hooks'> {
    const enabled = (level: number): boolean => this.enabled(level);
    return {
      level: 'trace',
      hooks: {
        logMethod(args, method, level) {
          if (enabled(level)) method.apply(this, args);
        },
      },
    };
  }
}
