/**
 * The CloudTap custom resource (cloudtap.io/v1alpha1): what a user asks for.
 * The CRD in crds/cloudtap.io_cloudtaps.yaml describes the same shape for the
 * API server; keep the two in step (test/operator/crd.test.ts checks it).
 */

export const group = 'cloudtap.io';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
export const kind = 'CloudTap';
export const plural = 'cloudtaps';

export type Provider = 's3' | 'gcs' | 'azure';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type TargetType = 'vxlan' | 'geneve' | 'pcapOverIp' | 'pcapVolume' | 'pcapBucket';
export type Variant = 'original' | 'cleartext' | 'both';

/** A key of a Secret in the CloudTap's own namespace. */
export interface SecretKeyRef {
  readonly name: string;
  /** @default "credentials.json" */
  readonly key?: string;
}

/** A bucket (S3, GCS) or container (Azure) and a prefix in it. */
export interface StoreLocation {
  readonly provider: Provider;
  /** The S3 or GCS bucket, or the Azure container. */
  readonly bucket: string;
  /** The Azure storage account; only for provider azure. */
  readonly account?: string;
  /** @default "" */
  readonly prefix?: string;
  /** The AWS region; only for provider s3. */
  readonly region?: string;
  /** A custom endpoint URL (MinIO, a private endpoint, an emulator). */
  readonly endpoint?: string;
}

/** Where CTAP BLOBs (or session keys) are read from. */
export interface StoreSource extends StoreLocation {
  /** Gateway-format JSON credentials; absent means the pod's ambient identity. */
  readonly credentialsSecretRef?: SecretKeyRef;
}

/** Addresses rewritten before export, as CIDRs to map into. */
export interface Remap {
  readonly client?: string;
  readonly server?: string;
}

export interface Target {
  /** Unique among the targets; names the volume mount and the metrics label. */
  readonly name: string;
  readonly type: TargetType;
  /** vxlan, geneve, pcapOverIp: the receiving host. */
  readonly host?: string;
  /** @default 4789 (vxlan), 6081 (geneve), 57012 (pcapOverIp) */
  readonly port?: number;
  /** vxlan, geneve: the virtual network identifier (required for those). */
  readonly vni?: number;
  /** @default 1500 */
  readonly mtu?: number;
  /** Send-rate limit in Mbit/s; absent means unlimited. */
  readonly rate?: number;
  /** @default "original" */
  readonly variant?: Variant;
  readonly remap?: Remap;
  /** pcapVolume: the PersistentVolumeClaim to write into (ReadWriteMany when shards > 1). */
  readonly claimName?: string;
  /** pcapVolume, pcapBucket: rotate files at this size. @default "100M" */
  readonly rotateSize?: string;
  /** pcapBucket: where the files go (the source's credentials are used). */
  readonly store?: StoreLocation;
}

/** The gateway's traffic-selection criteria, applied by the stitcher. */
export interface Selection {
  readonly users?: readonly string[];
  readonly ports?: readonly number[];
  readonly subnets?: readonly string[];
}

export interface ResourceRequirements {
  readonly requests?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, string>>;
}

export interface Sizing {
  /** Sizes shards and resources from the sizing table. @default 100 */
  readonly expectedThroughputMbps?: number;
  /** Overrides the shard count from the table (the scale subresource writes this). */
  readonly shards?: number;
  /** Overrides the per-shard resources from the table, key by key. */
  readonly resources?: ResourceRequirements;
}

/** Container securityContext fields a user may override. */
export interface ContainerSecurityContext {
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly readOnlyRootFilesystem?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly privileged?: boolean;
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
  readonly seccompProfile?: { readonly type: string; readonly localhostProfile?: string };
}

export interface StitcherOptions {
  /** Another image than the operator's; honoured only when the operator allows overrides. */
  readonly image?: string;
  /** @default "IfNotPresent" */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** @default "10s" */
  readonly pollInterval?: string;
  /** @default "30s" */
  readonly keyWait?: string;
  /** @default "info" */
  readonly logLevel?: LogLevel;
  /** Merged field by field over the restricted default. */
  readonly securityContext?: ContainerSecurityContext;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Scheduling, identity and environment of the stitcher pods, merged with the hardened defaults. */
  readonly podTemplate?: StitcherPodTemplate;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

/**
 * What a stitcher pod may be given beyond the defaults. No securityContext, host namespaces or
 * volumes: the hardening stays the operator's. Affinity and topology spread are Kubernetes' own
 * shapes, judged by the apiserver when the Deployment is written.
 */
export interface StitcherPodTemplate {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
  readonly affinity?: Readonly<Record<string, unknown>>;
  readonly topologySpreadConstraints?: readonly Readonly<Record<string, unknown>>[];
  readonly priorityClassName?: string;
  readonly imagePullSecrets?: readonly { readonly name: string }[];
  /** Extra environment (HTTPS_PROXY, NO_PROXY, ...); the operator's own names are refused. */
  readonly env?: readonly { readonly name: string; readonly value: string }[];
  /** PEM certificates from a ConfigMap, trusted in addition to Node's (NODE_EXTRA_CA_CERTS). */
  readonly caBundle?: { readonly configMapName: string; readonly key?: string };
}

export interface CloudTapSpec {
  readonly source: StoreSource;
  /** Where the TLS session keys are; @default the source */
  readonly keys?: StoreSource;
  readonly targets: readonly Target[];
  readonly selection?: Selection;
  readonly sizing?: Sizing;
  readonly stitcher?: StitcherOptions;
}

export type ConditionType = 'Ready' | 'Reconciled' | 'CredentialsValid' | 'Degraded';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface CloudTapStatus {
  readonly conditions?: readonly Condition[];
  readonly observedGeneration?: number;
  readonly shards?: number;
  readonly readyShards?: number;
  /** Label selector of the shard pods (for the scale subresource). */
  readonly selector?: string;
  /** Tapped bytes exported per second, summed over the shards' fresh reports, in Mbit/s (2 significant digits). */
  readonly throughputMbps?: number;
  /** The largest lag among the shards' fresh reports: now minus the newest exported record, whole seconds. */
  readonly lagSeconds?: number;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: string;
  /** Who wrote which field, as the apiserver records it (operator/controller/shard-count.ts reads it). */
  readonly managedFields?: readonly ManagedFieldsEntry[];
}

/** One writer's fields (metadata.managedFields): `fieldsV1` is the apiserver's nested `f:<field>` set. */
export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: 'Apply' | 'Update';
  readonly subresource?: string;
  readonly fieldsV1?: Readonly<Record<string, unknown>>;
}

export interface CloudTap {
  readonly apiVersion: typeof apiVersion;
  readonly kind: typeof kind;
  readonly metadata: ObjectMeta;
  readonly spec: CloudTapSpec;
  readonly status?: CloudTapStatus;
}
