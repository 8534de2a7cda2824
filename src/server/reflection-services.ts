import type { Server, ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { echoPackage, healthDescription } from "../proto/echo-package.js";

type Added = [ServiceDefinition, UntypedServiceImplementation];

let cached: readonly Added[] | undefined;

/**
 * Adds server reflection (v1 and v1alpha) describing Echo and Health to `server`.
 *
 * ReflectionService parses the protos it serves and loads its own reflection
 * protos on every addToServer: about 15 ms an instance, most of the start-up
 * of a process running 125 instances. Its handlers keep no per-server state,
 * so the services are built once per process, caught by a stand-in server,
 * and the same definitions and handlers are added to every instance.
 */
export function addReflection(server: Pick<Server, "addService">): void {
  if (cached === undefined) {
    const added: Added[] = [];
    const pkg = echoPackage();
    new ReflectionService({ ...pkg.definition, ...healthDescription() }).addToServer({
      addService: (definition: ServiceDefinition, implementation: UntypedServiceImplementation) =>
        void added.push([definition, implementation]),
    } as Pick<Server, "addService"> as Server);
    cached = added;
  }
  for (const [definition, implementation] of cached) server.addService(definition, implementation);
}
