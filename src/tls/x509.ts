// @peculiar/x509 v2 wires its parts with tsyringe, which needs the Reflect
// metadata API when the library loads: the polyfill must be evaluated first.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

// Node's own WebCrypto does the key work; the library only encodes ASN.1.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
