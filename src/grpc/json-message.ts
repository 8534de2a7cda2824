import protobuf from "protobufjs";
import { UsageError } from "../errors.js";

const INT32: readonly [number, number] = [-(2 ** 31), 2 ** 31 - 1];
const UINT32: readonly [number, number] = [0, 2 ** 32 - 1];
const RANGE32: Record<string, readonly [number, number]> = {
  int32: INT32,
  sint32: INT32,
  sfixed32: INT32,
  uint32: UINT32,
  fixed32: UINT32,
};
const INT64 = new Set(["int64", "sint64", "sfixed64"]);
const UINT64 = new Set(["uint64", "fixed64"]);

/** Why a JSON value does not fit: where in it (".a.b[2]") and what is wrong. */
class Misfit extends Error {}

const lowerCamel = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const typeName = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, "");

/**
 * The message of `type` that a JSON value describes, read as protobuf's JSON
 * mapping reads it: fields by their proto or lowerCamelCase name, 64-bit
 * integers as numbers or decimal strings, enums by name or number, bytes as
 * base64, null as absent. Anything else (an unknown field, a value of the
 * wrong kind, two fields of one oneof) is a UsageError naming where.
 */
export function messageOfJson(type: protobuf.Type, json: unknown): protobuf.Message {
  try {
    return type.fromObject(checkMessage(type, json, ""));
  } catch (e) {
    if (!(e instanceof Misfit)) throw e;
    throw new UsageError(`the request JSON does not fit ${typeName(type)}: ${e.message}`);
  }
}

function checkMessage(type: protobuf.Type, value: unknown, at: string): Record<string, unknown> {
  if (!isObject(value))
    throw new Misfit(
      `${at || "the request"} must be an object (${typeName(type)}), got ${JSON.stringify(value)}`,
    );
  const out: Record<string, unknown> = {};
  const oneofs = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] ?? type.fieldsArray.find((f) => lowerCamel(f.name) === key);
    if (field === undefined)
      throw new Misfit(
        `no field '${key}'${at ? ` in ${at} (${typeName(type)})` : ""}; the fields are ${type.fieldsArray.map((f) => f.name).join(", ") || "none"}`,
      );
    if (v === null) continue;
    const where = `${at}.${field.name}`;
    const oneof = field.partOf?.name;
    if (oneof !== undefined) {
      const other = oneofs.get(oneof);
      if (other !== undefined)
        throw new Misfit(`${where} and ${other} are of one oneof (${oneof}): give one`);
      oneofs.set(oneof, where);
    }
    field.resolve();
    if (field instanceof protobuf.MapField) {
      if (!isObject(v)) throw new Misfit(`${where} must be an object (a map), got ${JSON.stringify(v)}`);
      out[field.name] = Object.fromEntries(
        Object.entries(v).map(([k, item]) => [
          checkMapKey(field.keyType, k, where),
          checkValue(field, item, `${where}[${JSON.stringify(k)}]`),
        ]),
      );
    } else if (field.repeated) {
      if (!Array.isArray(v)) throw new Misfit(`${where} must be an array, got ${JSON.stringify(v)}`);
      out[field.name] = v.map((item, i) => checkValue(field, item, `${where}[${i}]`));
    } else out[field.name] = checkValue(field, v, where);
  }
  return out;
}

function checkMapKey(keyType: string, key: string, at: string): string {
  if (keyType === "string") return key;
  if (keyType === "bool") {
    if (key === "true" || key === "false") return key;
    throw new Misfit(`${at} has a bool key '${key}': use "true" or "false"`);
  }
  checkScalar(keyType, /^-?\d+$/.test(key) ? key : Number.NaN, `${at} key '${key}'`);
  return key;
}

function checkValue(field: protobuf.Field, v: unknown, at: string): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return checkMessage(t, v, at);
  if (t instanceof protobuf.Enum) {
    if (typeof v === "string" && v in t.values) return v;
    if (typeof v === "number" && Number.isInteger(v) && v >= INT32[0] && v <= INT32[1]) return v;
    throw new Misfit(
      `${at} must be one of ${Object.keys(t.values).join(", ")} (${typeName(t)}), got ${JSON.stringify(v)}`,
    );
  }
  return checkScalar(field.type, v, at);
}

function checkScalar(type: string, v: unknown, at: string): unknown {
  const wrong = (what: string): Misfit => new Misfit(`${at} must be ${what}, got ${JSON.stringify(v)}`);
  switch (type) {
    case "string":
      if (typeof v !== "string") throw wrong("a string");
      return v;
    case "bool":
      if (typeof v !== "boolean") throw wrong("true or false");
      return v;
    case "bytes":
      if (typeof v !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw wrong("base64 text");
      return v.replaceAll("-", "+").replaceAll("_", "/");
    case "double":
    case "float": {
      if (typeof v === "number") return v;
      if (
        typeof v === "string" &&
        (["NaN", "Infinity", "-Infinity"].includes(v) || Number.isFinite(Number(v)))
      )
        return Number(v);
      throw wrong("a number");
    }
  }
  const range = RANGE32[type];
  if (range !== undefined) {
    const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < range[0] || n > range[1])
      throw wrong(`an integer from ${range[0]} to ${range[1]} (${type})`);
    return n;
  }
  if (INT64.has(type) || UINT64.has(type)) {
    const text = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
    const unsigned = UINT64.has(type);
    if (typeof text !== "string" || !(unsigned ? /^\d+$/ : /^-?\d+$/).test(text))
      throw wrong(`an integer (${type})`);
    const big = BigInt(text);
    const [min, max] = unsigned ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
    if (big < min || big > max) throw wrong(`an integer from ${min} to ${max} (${type})`);
    return text;
  }
  throw wrong(`a ${type}`);
}
