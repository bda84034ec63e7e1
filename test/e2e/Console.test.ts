// The web console in a real browser: Debian's chromium, headless, driven by playwright-core, against a broker
// process with `console.listener=http://127.0.0.1:0`. A message produced with kcat (key and header) is found from
// the overview through the topic's page; a kafkajs group that committed part of a topic shows its lag, and resetting
// its offsets is refused (409, shown on the page) while it has a member and done once it is empty; the rate chart
// follows a running producer; a topic created and a message produced from the page are read back with kcat, and the
// topic is deleted after typing its name. The browser logs no error and no request fails, except the 409 provoked on
// purpose. A screenshot of each page is kept under test-artifacts/console/ (and the overview's in docs/console.png
// when CONSOLE_SCREENSHOT=1). The bundle is built first when dist/console is missing or older than src/console.
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { startBroker, type BrokerProcess } from "../support/BrokerProcess.ts"
import { requireClient, runs } from "../support/Installed.ts"
import { kcat, kcatInstalled } from "../support/Kcat.ts"
import { until } from "../support/Until.ts"
import { filterWarnings, restoreWarnings } from "../support/KafkajsWarnings.ts"

const root = resolve(import.meta.dirname, "../..")
const chromiumPath = "/usr/bin/chromium"
const chromiumInstalled = existsSync(chromiumPath) && runs(chromiumPath, ["--version"])
const installed = chromiumInstalled && kcatInstalled
const artifacts = join(root, "test-artifacts/console")

/** The newest modification time under `dir`. */
const newest = (dir: string): number =>
  Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => {
    const path = join(dir, e.name)
    return e.isDirectory() ? newest(path) : statSync(path).mtimeMs
  }))

const ensureBundle = () => {
  const index = join(root, "dist/console/index.html")
  if (existsSync(index) && statSync(index).mtimeMs >= newest(join(root, "src/console"))) return
  execFileSync("npm", ["run", "build:console", "--silent"], { cwd: root, stdio: "inherit" })
}


describe("web console in chromium", () => {
  requireClient("chromium", chromiumInstalled, "apt-get install -y chromium")
  requireClient("kcat", kcatInstalled, "apt-get install -y kcat")

  let broker: BrokerProcess | undefined
  let browser: Browser | undefined
  let page: Page
  let url: string
  let bootstrap: string
  let kafka: Kafka
  const problems: Array<string> = []
  /** Answers provoked on purpose: HTTP status → how many are still allowed. */
  const expected = new Map<number, number>()
  const allow = (status: number) => expected.set(status, (expected.get(status) ?? 0) + 1)

  const shot = async (name: string) => {
    await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })
  }
  const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? ""
  const go = async (hash: string) => {
    await page.goto(`${url}/${hash}`)
  }

  beforeAll(async () => {
    if (!installed) return
    filterWarnings()
    ensureBundle()
    mkdirSync(artifacts, { recursive: true })
    broker = await startBroker({ properties: { "console.listener": "http://127.0.0.1:0", "num.partitions": "1" } })
    await until("the console's address in the broker's log", () => /console listening on http:\/\/[^\s"]+/.test(broker!.output()))
    url = /console listening on (http:\/\/[^\s"]+)/.exec(broker.output())![1]!.replace(/\/$/, "")
    bootstrap = `127.0.0.1:${broker.port}`
    kafka = new Kafka({ clientId: "console-e2e", brokers: [bootstrap], logLevel: logLevel.NOTHING })
    browser = await chromium.launch({ executablePath: chromiumPath })
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
    page.on("console", (message) => {
      if (message.type() !== "error" && message.type() !== "warning") return
      // Chromium logs every non-2xx answer as an error: those provoked on purpose are counted below.
      const status = /status of (\d+)/.exec(message.text())
      if (message.type() === "error" && status !== null && expected.has(Number(status[1]))) return
      problems.push(`console ${message.type()}: ${message.text()}`)
    })
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`))
    page.on("response", (response) => {
      if (response.status() < 400) return
      const left = expected.get(response.status()) ?? 0
      if (left > 0) expected.set(response.status(), left - 1)
      else problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`)
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await broker?.stop()
    restoreWarnings()
  })

  it.runIf(installed)("the overview lists a topic produced to; its page shows partitions and the message's key, value and header", async () => {
    await kcat(["-b", bootstrap, "-P", "-t", "orders", "-k", "order-1", "-H", "trace-id=abc123", "-X", "acks=all"], '{"id":1,"item":"book"}\n')
    await go("#/")
    const link = page.getByRole("link", { name: "orders", exact: true }).first()
    await link.waitFor()
    await shot("overview")
    await link.click()
    await page.waitForURL(/#\/topics\/orders$/)
    await page.getByRole("table", { name: "Partitions" }).waitFor()
    const partitions = await page.getByRole("table", { name: "Partitions" }).locator("tbody tr").allTextContents()
    assert.strictEqual(partitions.length, 1)
    const row = page.locator('table[aria-label="Messages"] tbody tr').first()
    await row.waitFor()
    assert.include(await row.locator("td.key").textContent(), "order-1")
    // The value is JSON: the server renders it pretty, on several lines.
    assert.include(await row.locator("td.value pre").textContent(), '"item": "book"')
    assert.include(await row.locator("td.value").textContent(), "json")
    assert.include(await row.locator("td.headers dt").textContent(), "trace-id")
    assert.include(await row.locator("td.headers dd").textContent(), "abc123")
    // The search filters the loaded page.
    await page.getByLabel("Search loaded").fill("no such text")
    assert.strictEqual(await page.locator('table[aria-label="Messages"] tbody tr').count(), 0)
    await page.getByLabel("Search loaded").fill("book")
    assert.strictEqual(await page.locator('table[aria-label="Messages"] tbody tr').count(), 1)
    await shot("topic")
  }, 60_000)

  it.runIf(installed)("the rate chart follows a running producer", async () => {
    await go("#/")
    const chart = page.locator('[data-chart="messagesIn"]')
    await chart.locator("canvas").waitFor()
    const maxBefore = Number(await chart.getAttribute("data-max"))
    const producer: Producer = kafka.producer()
    await producer.connect()
    let running = true
    let sent = 0
    const load = (async () => {
      while (running) {
        await producer.send({ topic: "rates", messages: Array.from({ length: 50 }, (_, i) => ({ value: `m-${sent + i}` })) })
        sent += 50
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    try {
      await until("the messages-in chart to show the producer's rate", async () => Number(await chart.getAttribute("data-last")) >= 100, 20_000)
      assert.isAbove(Number(await chart.getAttribute("data-max")), maxBefore)
      assert.notMatch(await text('[data-rate="messagesIn"]'), /^0 /)
      await shot("overview-rates")
    } finally {
      running = false
      await load
      await producer.disconnect()
    }
    assert.isAbove(sent, 0)
  }, 60_000)

  it.runIf(installed)("the groups view shows a group's lag; a reset is refused while the group has a member and done once it is empty", async () => {
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: "lagging", messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) })
    await producer.disconnect()
    // The consumer commits after its fourth message (offset 4 is the next to read) and commits nothing more.
    const consumer: Consumer = kafka.consumer({ groupId: "slow-readers", sessionTimeout: 10_000, heartbeatInterval: 500 })
    await consumer.connect()
    await consumer.subscribe({ topic: "lagging", fromBeginning: true })
    let connected = true
    let committed = false
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (message.offset === "3") {
          await consumer.commitOffsets([{ topic, partition, offset: "4" }])
          committed = true
        }
      }
    })
    try {
      await until("the group's commit", () => committed)
      await go("#/groups")
      await until("the group's lag in the groups view", async () => (await text('[data-lag="slow-readers"]')) === "6")
      await shot("groups")
      await page.getByRole("link", { name: "slow-readers" }).click()
      await until("the partition's lag on the group's page", async () => (await text('[data-lag="lagging-0"]')) === "6")
      await until("the member's assignment", async () => (await text('table[aria-label="Members"]')).includes("lagging: 0"))
      assert.include(await text('table[aria-label="Committed offsets"]'), "lagging")

      // Kafka refuses to reset the offsets of a group with members: the page shows the broker's error.
      allow(409)
      await page.getByLabel("To", { exact: true }).selectOption("earliest")
      await page.getByRole("button", { name: "Reset offsets" }).click()
      const alert = page.locator("#reset-status [role=alert]")
      await alert.waitFor()
      assert.match((await alert.textContent()) ?? "", /Not reset: .*HTTP 409/)
      assert.strictEqual(expected.get(409), 0, "the refused reset answered 409")
      await shot("group-refused")

      await consumer.disconnect()
      connected = false
      await until("the group to be empty", async () => (await text('[aria-labelledby="members-title"]')).includes("No members"), 20_000)
      await page.getByRole("button", { name: "Reset offsets" }).click()
      await page.locator("#reset-status [role=status]").waitFor()
      await until("the lag after the reset to earliest", async () => (await text('[data-lag="lagging-0"]')) === "10")
      await shot("group")
    } finally {
      if (connected) await consumer.disconnect()
    }
  }, 90_000)

  it.runIf(installed)("a topic created and a message produced from the page are visible to kcat; deleting it asks for its name", async () => {
    await go("#/topics")
    await page.getByLabel("Name", { exact: true }).fill("from-console")
    await page.getByLabel("Partitions", { exact: true }).fill("2")
    await page.getByRole("button", { name: "Create topic" }).click()
    await page.waitForURL(/#\/topics\/from-console$/)
    await until("the new topic's partitions", async () => (await page.getByRole("table", { name: "Partitions" }).locator("tbody tr").count()) === 2)
    assert.match(await kcat(["-b", bootstrap, "-L", "-t", "from-console"]), /topic "from-console" with 2 partitions/)

    await page.getByLabel("Key", { exact: true }).fill("ui-key")
    await page.getByLabel("Value", { exact: true }).fill('{"made":"in the browser"}')
    await page.getByLabel("Headers (one key=value per line)").fill("origin=console")
    await page.getByRole("button", { name: "Produce" }).click()
    await page.getByText(/Produced to partition \d at offset 0\./).waitFor()
    // The message browser reloads newest first after producing.
    await until("the produced message in the browser", async () =>
      (await text('table[aria-label="Messages"]')).includes("in the browser"))
    await shot("topic-produced")
    const read = await kcat(["-b", bootstrap, "-C", "-t", "from-console", "-o", "beginning", "-e", "-q", "-f", "%k|%s|%h\n"])
    assert.strictEqual(read.trim(), 'ui-key|{"made":"in the browser"}|origin=console')

    await page.getByRole("button", { name: "Delete topic…" }).click()
    const dialog = page.getByRole("dialog")
    const confirm = dialog.getByRole("button", { name: "Delete this topic" })
    assert.isTrue(await confirm.isDisabled(), "deleting waits for the topic's name")
    await dialog.getByLabel("Type the topic name to confirm").fill("from-console")
    await confirm.click()
    await page.waitForURL(/#\/topics$/)
    await until("the topic to leave kcat's listing", async () =>
      !(await kcat(["-b", bootstrap, "-L"])).includes('topic "from-console"'))
    await page.getByRole("table", { name: "Topics" }).waitFor()
    await until("the topics page without the deleted topic", async () => !(await text('table[aria-label="Topics"]')).includes("from-console"))
    await shot("topics")
  }, 60_000)

  it.runIf(installed)("the overview after all that: topics, groups and the rates of what was produced and consumed", async () => {
    await go("#/")
    await page.locator('[data-chart="messagesIn"] canvas').waitFor()
    await until("the overview's counts", async () => (await text(".stats")).includes("Groups"))
    await page.setViewportSize({ width: 1280, height: 720 })
    await page.waitForTimeout(1200)
    await page.screenshot({ path: join(artifacts, "overview-end.png") })
    // The README's picture: refreshed on request only, so that a test run leaves the work tree unchanged.
    if (process.env["CONSOLE_SCREENSHOT"] === "1") copyFileSync(join(artifacts, "overview-end.png"), join(root, "docs/console.png"))
  })

  it.runIf(installed)("the browser logged no error and no request failed", () => {
    assert.deepStrictEqual(problems, [])
  })
})
