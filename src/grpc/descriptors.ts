import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { messageOf, UsageError } from "../errors.js";

// Importing ext/descriptor adds Root.fromDescriptor; its typings do not say so.
const fromDescriptor = (protobuf.Root as unknown as { fromDescriptor(set: protobuf.Message): protobuf.Root })
  .fromDescriptor;

/** A FileDescriptorProto's name and the files it imports, read from its bytes. */
export function fileDependencies(bytes: Uint8Array): { name: string; dependencies: string[] } {
  const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as {
    name?: string;
    dependency?: string[];
  };
  return { name: file.name ?? "", dependencies: file.dependency ?? [] };
}

/**
 * The types of a set of serialized FileDescriptorProtos (as server reflection
 * sends them), which must include every file they import.
 */
export function rootOfFileDescriptors(files: readonly Uint8Array[]): protobuf.Root {
  const set = descriptor.FileDescriptorSet.create({
    file: files.map((b) => descriptor.FileDescriptorProto.decode(b)),
  });
  const root = fromDescriptor(set);
  root.resolveAll();
  return root;
}

/**
 * The types of .proto files, as protoc and ghz find imports: in each import
 * path in order, then beside the file that imports, then in the current
 * directory. google/protobuf/*.proto come built in.
 */
export function rootOfProtoFiles(files: readonly string[], importPaths: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  const dirs = [...importPaths, ...files.map((f) => dirname(resolve(f))), process.cwd()];
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target;
    if (origin === "" && existsSync(target)) return resolve(target);
    for (const dir of [...dirs, ...(origin === "" ? [] : [dirname(origin)])]) {
      const candidate = resolve(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    // protobufjs supplies google/protobuf/*.proto itself when the file does not exist.
    return target;
  };
  try {
    root.loadSync([...files], { keepCase: true });
    root.resolveAll();
  } catch (e) {
    throw new UsageError(
      `cannot load ${files.join(", ")}${importPaths.length > 0 ? ` (import paths ${importPaths.join(", ")})` : ""}: ${messageOf(e)}`,
      { cause: e },
    );
  }
  return root;
}
