// Reads the package's copy of the Cair OpenAPI file and checks values against the small subset of JSON Schema it uses.
import { readFileSync } from "node:fs"
import { parse } from "yaml"

interface SchemaObject {
  readonly $ref?: string
  readonly type?: string
  readonly format?: string
  readonly properties?: Readonly<Record<string, SchemaObject>>
  readonly required?: ReadonlyArray<string>
}

interface Content {
  readonly content: Readonly<Record<string, { readonly schema: SchemaObject }>>
}

interface Operation {
  readonly requestBody: Content
  readonly responses: Readonly<Record<string, Content>>
}

interface Spec {
  readonly paths: Readonly<Record<string, { readonly post: Operation }>>
  readonly components: { readonly schemas: Readonly<Record<string, SchemaObject>> }
}

export const spec: Spec = parse(readFileSync(new URL("../../cair-auth.openapi.yaml", import.meta.url), "utf8"))

const resolve = (schema: SchemaObject): SchemaObject =>
  schema.$ref === undefined
    ? schema
    : resolve(spec.components.schemas[schema.$ref.replace("#/components/schemas/", "")]!)

const json = (content: Content) => resolve(content.content["application/json"]!.schema)

export const requestSchema = (path: string): SchemaObject => json(spec.paths[path]!.post.requestBody)

export const responseSchema = (path: string, status: number): SchemaObject =>
  json(spec.paths[path]!.post.responses[String(status)]!)

export const propertyNames = (schema: SchemaObject): ReadonlyArray<string> =>
  Object.keys(schema.properties ?? {}).sort()

const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** What is wrong with `value` according to `schema`; empty when it conforms. */
export const violations = (schema: SchemaObject, value: unknown, at = "body"): ReadonlyArray<string> => {
  const resolved = resolve(schema)
  switch (resolved.type) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return [`${at} is not an object`]
      }
      const record = value as Record<string, unknown>
      return [
        ...(resolved.required ?? []).filter((key) => !(key in record)).map((key) => `${at}.${key} is missing`),
        ...Object.entries(resolved.properties ?? {}).flatMap(([key, property]) =>
          key in record ? violations(property, record[key], `${at}.${key}`) : []
        )
      ]
    }
    case "string": {
      if (typeof value !== "string") {
        return [`${at} is not a string`]
      }
      const isDateTime = dateTime.test(value) && !Number.isNaN(Date.parse(value))
      return resolved.format === "date-time" && !isDateTime ? [`${at} is not a date-time`] : []
    }
    default:
      return [`${at}: schema type ${resolved.type} is not supported here`]
  }
}

/** Raw request bodies that break the request schema of `path`: each required property missing or mistyped. */
export const invalidRequestBodies = (path: string): ReadonlyArray<readonly [name: string, body: string]> => {
  const schema = requestSchema(path)
  const valid = Object.fromEntries(propertyNames(schema).map((key) => [key, "x"]))
  const without = (key: string) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key))
  return [
    ...(schema.required ?? []).map((key) => [`without ${key}`, JSON.stringify(without(key))] as const),
    ...propertyNames(schema).map((key) =>
      [`with a number as ${key}`, JSON.stringify({ ...valid, [key]: 42 })] as const
    ),
    ["with an array", "[]"],
    ["with null", "null"],
    ["with a body that is not JSON", "{\"clientId\":"],
    ["without a body", ""]
  ]
}
