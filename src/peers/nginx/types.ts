/** nginx configuration as typed data: directives and blocks, serialized only by render.ts. */
export interface NginxDirective {
  name: string;
  args: readonly (string | number)[];
  /** Present for a block directive (`http { … }`): its directives. */
  block?: readonly NginxDirective[];
  /** Written as a comment above the directive. */
  why?: string;
}

export interface NginxConfig {
  /** The main context's directives. */
  directives: readonly NginxDirective[];
}

/** The name the builder gives the upstream of the servers. */
export const NGINX_UPSTREAM = "servers";
