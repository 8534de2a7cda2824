/** What differs between the one-off client pods the k8s commands run (a load, a probe). */
export interface ClientPodOptions {
  name: string;
  namespace?: string;
  /** app.kubernetes.io/name of the pod. */
  app: string;
  image: string;
  container: string;
  /** The container's command or args, exactly one of them. */
  run: { command: string[] } | { args: string[] };
  cpuRequest: string;
  cpuLimit: string;
  /** Volumes and where the container mounts them. Default: none. */
  volumes?: { volume: object; mountPath: string; name: string }[];
}

/**
 * A pod of the server image that runs once (restartPolicy Never), locked down as the
 * deployment's pods are: non-root, no service-account token, read-only root, no capabilities.
 */
export function clientPod(o: ClientPodOptions): object {
  const volumes = o.volumes ?? [];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: o.name,
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
      labels: { "app.kubernetes.io/name": o.app, "app.kubernetes.io/part-of": "grpc-envoy-lb" },
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: o.container,
          image: o.image,
          imagePullPolicy: "IfNotPresent",
          ...o.run,
          resources: {
            requests: { cpu: o.cpuRequest, memory: "64Mi" },
            limits: { cpu: o.cpuLimit, memory: "256Mi" },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          ...(volumes.length === 0
            ? {}
            : {
                volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: true })),
              }),
        },
      ],
      ...(volumes.length === 0 ? {} : { volumes: volumes.map((v) => ({ name: v.name, ...v.volume })) }),
    },
  };
}
