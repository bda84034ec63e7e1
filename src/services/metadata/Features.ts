// Feature versions (KIP-584): what this broker supports, what the metadata log has finalized, and UpdateFeatures'
// decision as Kafka's FeatureControlManager makes it. Finalized levels are FeatureLevelRecords; a log without a
// metadata.version record runs at DEFAULT_METADATA_VERSION, the level the broker writes its records for.
//
// Supported ranges, chosen by what the broker really does:
// - metadata.version 7-27 (3.3-IV3 to 4.1-IV1, Kafka 4.1's range): the metadata records it reads and writes are
//   those of every level there (PartitionRecord v0-v2 by level); no level above 23 changed a record.
// - kraft.version 0: a static single-voter quorum; no KRaftVersion or VotersRecord control records.
// - transaction.version 0-1: the transaction log is written in the flexible TransactionLogValue v1. Not 2: with
//   level 2 finalized, Kafka 4 producers stop sending AddPartitionsToTxn and rely on Produce v12 adding partitions
//   implicitly, which this broker (Produce up to v11) does not do; EndTxn v5 epoch bumps are served regardless.
// - group.version 0-1: level 1 is the KIP-848 consumer group protocol (ConsumerGroupHeartbeat), which this broker
//   serves whatever level is finalized (Kafka refuses it below level 1; its 4.x clusters finalize 1 at format).
import type { NewMetadataRecord } from "../../protocol/MetadataRecords.ts"
import { DEFAULT_METADATA_VERSION, METADATA_VERSION_FEATURE } from "../../protocol/MetadataRecords.ts"
import { InvalidUpdateVersion } from "../Errors.ts"
import type { MetadataImage } from "./MetadataImage.ts"

export interface FeatureRange {
  readonly min: number
  readonly max: number
}

export const KRAFT_VERSION_FEATURE = "kraft.version"
export const TRANSACTION_VERSION_FEATURE = "transaction.version"
export const GROUP_VERSION_FEATURE = "group.version"

export const SUPPORTED_FEATURES: ReadonlyMap<string, FeatureRange> = new Map([
  [METADATA_VERSION_FEATURE, { min: 7, max: 27 }],
  [KRAFT_VERSION_FEATURE, { min: 0, max: 0 }],
  [TRANSACTION_VERSION_FEATURE, { min: 0, max: 1 }],
  [GROUP_VERSION_FEATURE, { min: 0, max: 1 }]
])

/** Kafka's MetadataVersion names, by level, from the lowest supported. */
const METADATA_VERSIONS = [
  "3.3-IV3", "3.4-IV0", "3.5-IV0", "3.5-IV1", "3.5-IV2", "3.6-IV0", "3.6-IV1", "3.6-IV2", "3.7-IV0", "3.7-IV1",
  "3.7-IV2", "3.7-IV3", "3.7-IV4", "3.8-IV0", "3.9-IV0", "4.0-IV0", "4.0-IV1", "4.0-IV2", "4.0-IV3", "4.1-IV0",
  "4.1-IV1"
]
const FIRST_METADATA_VERSION = 7

/** The metadata.version levels whose metadata records differ from the level below (Kafka's didMetadataChange). */
const METADATA_CHANGED = new Set([7, 8, 11, 13, 14, 15, 17, 23])

export const metadataVersionName = (level: number): string =>
  METADATA_VERSIONS[level - FIRST_METADATA_VERSION] ?? String(level)

/** Whether going between two metadata.version levels crosses a change of the metadata records. */
const metadataChanged = (from: number, to: number): boolean => {
  const [low, high] = from < to ? [from, to] : [to, from]
  for (let level = high; level > low; level--) if (METADATA_CHANGED.has(level)) return true
  return false
}

/** The finalized level of every feature above level 0; metadata.version always. */
export const finalizedFeatures = (image: MetadataImage): ReadonlyMap<string, number> => {
  const out = new Map<string, number>([[METADATA_VERSION_FEATURE, image.features.get(METADATA_VERSION_FEATURE) ?? DEFAULT_METADATA_VERSION]])
  for (const [name, level] of image.features) if (level > 0 && name !== METADATA_VERSION_FEATURE) out.set(name, level)
  return out
}

/** UpdateFeatures' upgrade types (v0's allow_downgrade reads as a safe downgrade). */
export const UpgradeType = { Upgrade: 1, SafeDowngrade: 2, UnsafeDowngrade: 3 } as const

export interface FeatureUpdate {
  readonly feature: string
  readonly level: number
  readonly upgradeType: number
}

const rangeText = (r: FeatureRange) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)

const invalid = (feature: string, level: number, why: string) =>
  new InvalidUpdateVersion({ detail: `Invalid update version ${level} for feature ${feature}. ${why}` })

const invalidMetadataVersion = (level: number, why: string) =>
  new InvalidUpdateVersion({ detail: `Invalid metadata.version ${level}. ${why}` })

const updateOne = (
  finalized: ReadonlyMap<string, number>,
  nodeId: number,
  { feature, level, upgradeType }: FeatureUpdate
): NewMetadataRecord | undefined | InvalidUpdateVersion => {
  if (upgradeType !== UpgradeType.Upgrade && upgradeType !== UpgradeType.SafeDowngrade && upgradeType !== UpgradeType.UnsafeDowngrade) {
    return invalid(feature, level, "The controller does not support the given upgrade type.")
  }
  const current = finalized.get(feature) ?? 0
  if (level < 0) return invalid(feature, level, "A feature version cannot be less than 0.")
  const range = SUPPORTED_FEATURES.get(feature) ?? { min: 0, max: 0 }
  if (level < range.min || level > range.max) {
    return invalid(
      feature,
      level,
      range.max === 0 ? `Local controller ${nodeId} does not support this feature.` : `Local controller ${nodeId} only supports versions ${rangeText(range)}`
    )
  }
  if (level < current && upgradeType === UpgradeType.Upgrade) {
    return invalid(feature, level, "Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.")
  }
  if (level > current && upgradeType !== UpgradeType.Upgrade) {
    return invalid(feature, level, "Can't downgrade to a newer version.")
  }
  if (feature === METADATA_VERSION_FEATURE) {
    if (level < current && metadataChanged(current, level)) {
      return upgradeType === UpgradeType.UnsafeDowngrade
        ? invalidMetadataVersion(level, "Unsafe metadata downgrade is not supported in this version.")
        : invalidMetadataVersion(level, "Refusing to perform the requested downgrade because it might delete metadata information.")
    }
  } else if (!SUPPORTED_FEATURES.has(feature)) {
    // Level 0 of a feature Kafka does not know: nothing to finalize.
    return invalid(feature, level, `Feature ${feature} not found.`)
  } else if (feature === KRAFT_VERSION_FEATURE) {
    // Only level 0 is supported, and it is no FeatureLevelRecord (Kafka keeps kraft.version in the Raft log).
    return undefined
  }
  return { type: "FeatureLevel", name: feature, featureLevel: level }
}

/**
 * The FeatureLevelRecords that apply `updates` (a feature named twice: the last update counts), or the first
 * update's refusal, which refuses them all.
 */
export const updateFeatures = (
  image: MetadataImage,
  updates: ReadonlyArray<FeatureUpdate>,
  nodeId: number
): Array<NewMetadataRecord> | InvalidUpdateVersion => {
  const finalized = finalizedFeatures(image)
  const byFeature = new Map<string, FeatureUpdate>()
  for (const update of updates) {
    byFeature.delete(update.feature)
    byFeature.set(update.feature, update)
  }
  const records: Array<NewMetadataRecord> = []
  for (const update of byFeature.values()) {
    const outcome = updateOne(finalized, nodeId, update)
    if (outcome instanceof InvalidUpdateVersion) return outcome
    if (outcome !== undefined) records.push(outcome)
  }
  return records
}
