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
