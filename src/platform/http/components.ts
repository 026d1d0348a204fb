// Named OpenAPI components (`#/components/schemas/<Name>`): a service's response bodies, registered
// as shared schemas so the OpenAPI document names them and generated clients get one type each.
import { Type, type TSchema } from 'typebox';
import type { HttpApp } from './app.js';

/** A reference to another component by name. */
export const componentRef = (name: string) => Type.Unsafe<unknown>({ $ref: `${name}#` });

export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Add the components to the app (before `ready`), each named by its key. */
export function registerComponents(app: HttpApp, components: Record<string, TSchema>): void {
  for (const [name, schema] of Object.entries(components)) app.addSchema({ ...schema, $id: name });
}

/** The components both services share: their health answer and the contract's error body. */
export const sharedComponents: Record<string, TSchema> = {
  Health: Type.Object({
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
    version: Type.String(),
    uptime_s: Type.Number(),
    checks: Type.Record(Type.String(), Type.String()),
  }),
  ErrorBody: Type.Object({
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    }),
  }),
};
