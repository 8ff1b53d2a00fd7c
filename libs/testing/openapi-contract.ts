// Types only at the top: the validators (development dependencies) load when a contract does, not
// with everything else that imports @pinflow/testing (the platform launcher among them).
import type Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv/dist/2020';

/** One HTTP call as it crossed the wire: what a client sent and what the server answered. */
export interface HttpExchange {
  method: string;
  /** Path and query, as in the request line. */
  url: string;
  requestHeaders: Record<string, string | string[] | undefined>;
  requestBody: string;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: string;
}

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface MediaTypes {
  [mediaType: string]: { schema?: Schema };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: MediaTypes };
  responses: Record<string, { content?: MediaTypes }>;
}
interface Document {
  paths: Record<string, Record<string, Operation> & { parameters?: Parameter[] }>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * A published OpenAPI 3.x document as a contract for recorded HTTP exchanges: the request must name an
 * operation the document has, with its required parameters and a body of its schema; the answer must be
 * a status the operation declares, with a body of the schema declared for it. The document itself is
 * checked against the OpenAPI specification first (@readme/openapi-parser), schemas with Ajv.
 */
export class OpenApiContract {
  private readonly compiled = new WeakMap<Ajv2020, WeakMap<object, ValidateFunction>>();
  private readonly routes: { method: string; pattern: RegExp; names: string[]; operation: Operation }[];

  private constructor(
    document: Document,
    private readonly bodies: Ajv2020,
    // Path and header values arrive as text: coerced to the parameter's type before its schema applies.
    private readonly parameters: Ajv2020,
  ) {
    this.routes = Object.entries(document.paths)
      .flatMap(([template, item]) =>
        METHODS.filter((method) => item[method]).map((method) => {
          const names = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
          const pattern = new RegExp(`^${template.split(/\{[^}]+\}/).map(escapeRegExp).join('([^/]+)')}$`);
          const operation = { ...item[method], parameters: [...(item.parameters ?? []), ...(item[method].parameters ?? [])] };
          return { method, pattern, names, operation };
        }),
      )
      // A literal segment beats a template: /cards/search is not /cards/{cardId}.
      .sort((a, b) => a.names.length - b.names.length);
  }

  /** Reads, validates and dereferences the document; refuses one that is not valid OpenAPI. */
  static async load(file: string): Promise<OpenApiContract> {
    const [{ compileErrors, dereference, validate }, { default: Ajv }, { default: addFormats }] = await Promise.all([import('@readme/openapi-parser'), import('ajv/dist/2020'), import('ajv-formats')]);
    const result = await validate(file);
    if (!result.valid) throw new Error(`${file} is not a valid OpenAPI document:\n${compileErrors(result)}`);
    const [bodies, parameters] = [new Ajv({ strict: false, allErrors: true }), new Ajv({ strict: false, allErrors: true, coerceTypes: true })];
    addFormats(bodies);
    addFormats(parameters);
    return new OpenApiContract((await dereference(file)) as unknown as Document, bodies, parameters);
  }

  /** Everything about a request that breaks the document; empty when it follows it. */
  requestViolations(exchange: HttpExchange): string[] {
    const route = this.route(exchange);
    if (!route) return [`${exchange.method} ${pathOf(exchange.url)}: no such operation`];
    const { operation } = route;
    const found = route.pattern.exec(pathOf(exchange.url))!;
    const values: Record<string, Record<string, string | undefined>> = {
      path: Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(found[index + 1])])),
      query: Object.fromEntries(new URL(exchange.url, 'http://host').searchParams),
      header: Object.fromEntries(Object.entries(exchange.requestHeaders).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value])),
      cookie: {},
    };
    const problems: string[] = [];
    for (const parameter of operation.parameters ?? []) {
      const value = values[parameter.in][parameter.in === 'header' ? parameter.name.toLowerCase() : parameter.name];
      if (value === undefined) {
        if (parameter.required) problems.push(`${parameter.in} parameter ${parameter.name} is required`);
        continue;
      }
      if (parameter.schema) problems.push(...this.check(this.parameters, parameter.schema, value, `${parameter.in} parameter ${parameter.name}`));
    }
    const body = operation.requestBody;
    if (exchange.requestBody === '') {
      if (body?.required) problems.push('a request body is required');
      return problems;
    }
    if (!body?.content) return [...problems, 'the operation takes no request body'];
    return [...problems, ...this.content(body.content, contentTypeOf(exchange.requestHeaders['content-type']), exchange.requestBody, 'request body')];
  }

  /** Everything about an answer that breaks the document; empty when it follows it. */
  responseViolations(exchange: HttpExchange): string[] {
    const route = this.route(exchange);
    if (!route) return [`${exchange.method} ${pathOf(exchange.url)}: no such operation`];
    const { responses } = route.operation;
    const declared = responses[String(exchange.status)] ?? responses[`${String(exchange.status)[0]}XX`] ?? responses.default;
    if (!declared) return [`status ${exchange.status} is not one the operation declares (${Object.keys(responses).join(', ')})`];
    if (!declared.content) {
      // The document says nothing of this answer's body (Pismo's errors): only a 204 must have none.
      return exchange.status === 204 && exchange.responseBody !== '' ? ['a 204 answer has a body'] : [];
    }
    return this.content(declared.content, contentTypeOf(exchange.responseHeaders['content-type']), exchange.responseBody, `${exchange.status} body`);
  }

  private route({ method, url }: Pick<HttpExchange, 'method' | 'url'>) {
    const path = pathOf(url);
    return this.routes.find((route) => route.method === method.toLowerCase() && route.pattern.test(path));
  }

  private content(content: MediaTypes, mediaType: string | undefined, text: string, what: string): string[] {
    const declared = mediaType === undefined ? undefined : content[mediaType];
    if (!declared) return [`${what} is ${mediaType ?? 'untyped'}, not ${Object.keys(content).join(' or ')}`];
    if (!declared.schema) return [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return [`${what} is not JSON`];
    }
    return this.check(this.bodies, declared.schema, value, what);
  }

  private check(ajv: Ajv2020, schema: Schema, value: unknown, what: string): string[] {
    const cache = this.compiled.get(ajv) ?? this.compiled.set(ajv, new WeakMap()).get(ajv)!;
    let validator = cache.get(schema);
    if (!validator) {
      validator = ajv.compile(schema);
      cache.set(schema, validator);
    }
    return validator(value) ? [] : (validator.errors ?? []).map((error) => `${what}${error.instancePath} ${error.message ?? 'is invalid'}`);
  }
}

function pathOf(url: string): string {
  return url.split('?')[0];
}

function contentTypeOf(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(';')[0].trim().toLowerCase();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
