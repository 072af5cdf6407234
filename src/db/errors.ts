/** Base of the storage layer's expected failures (callers map them to HTTP 404/409/…). */
export class DbError extends Error {}

export class NotFoundError extends DbError {}

/** A save was based on a config version that is no longer current (HTTP 409). */
export class StaleConfigVersionError extends DbError {
  constructor(
    readonly pipeline: string,
    readonly expectedVersion: number,
    readonly currentVersion: number | null,
  ) {
    super(
      currentVersion === null
        ? `pipeline ${pipeline} does not exist, but the save expected its config version ${expectedVersion}`
        : `pipeline ${pipeline} config version is ${currentVersion}, but the save expected version ${expectedVersion}: ` +
            'the pipeline was changed since it was read; fetch it again and retry',
    );
  }
}

export class ConflictError extends DbError {}

/** The config refers to something it does not define (normally caught by validation first). */
export class InvalidConfigError extends DbError {}
