/** Kubernetes `Status` errors as a real API server answers them. */

export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field: string;
}

export interface ErrorDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

export interface Named {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
}

function qualified(type: Named): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

export const errors = {
  notFound: (type: Named, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(type)} "${name}" not found`, { name, group: type.group, kind: type.plural }),
  alreadyExists: (type: Named, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(type)} "${name}" already exists`, {
      name,
      group: type.group,
      kind: type.plural,
    }),
  conflict: (type: Named, name: string) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: type.group, kind: type.plural },
    ),
  invalid: (type: Named, name: string, causes: readonly StatusCause[]) => {
    const kindName = type.group ? `${type.kind}.${type.group}` : type.kind;
    const list = causes.map((cause) => `${cause.field}: ${cause.message}`);
    const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    return new ApiError(422, 'Invalid', `${kindName} "${name}" is invalid: ${summary}`, {
      name,
      group: type.group,
      kind: type.kind,
      causes,
    });
  },
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  methodNotAllowed: (message: string) => new ApiError(405, 'MethodNotAllowed', message),
  unsupportedMediaType: (contentType: string) =>
    new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`),
  unprocessable: (message: string) => new ApiError(422, 'Invalid', message),
  gone: (message: string) => new ApiError(410, 'Expired', message),
};
