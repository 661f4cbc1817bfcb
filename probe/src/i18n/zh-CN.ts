/** Chinese (simplified). Translates en.ts key for key. */
import type { Catalogue } from './en.ts'

export const zhCN: Catalogue = {
  consent: {
    text: `在运行 blockwatch 探针之前，请先阅读以下内容。

探针做什么
  它通过您的网络连接访问网站和网络服务（新闻、人权、社交媒体、即时通讯应用、
  短信网关以及目标列表中的其他服务），并记录它们能否访问、以及访问失败的方式。
  它把这些测量结果发送到您选择的汇总服务器（aggregator），由后者公开发布。

会暴露什么
  - 公开发布的测量结果包含您的国家、您的网络（ASN）和您声明的地区，但不包含
    您的 IP 地址：探针在保存每条测量结果之前都会删除它，汇总服务器也从不保存它。
  - 任何监视您网络连接的人（您的网络服务商、雇主或政府）都能看到您的连接访问了
    列表中的网站，其中一些在您所在的地方可能是非法的或政治敏感的，而且他们可能
    看出您在运行审查测量探针。
  - 探针与汇总服务器通信时，汇总服务器能看到您的 IP 地址。使用
    --upload-proxy socks5://127.0.0.1:9050（Tor）可以对汇总服务器和线路上的
    观察者隐藏它。

风险
  在某些国家，访问被封锁的内容或参与审查测量可能带来法律或其他后果。我们无法
  替您判断风险。如果您不确定，请不要同意：这样探针只会测试一小份中立网站列表。

您可以随时停止：停止服务，并删除配置文件和待上传队列（outbox）
（见 docs/privacy.md 和 docs/volunteers.md）。
`,
    question: '您是否同意在这些风险下运行探针？输入“{{yes}}”表示同意，输入其他任何内容表示拒绝：',
    yes: '同意',
    noTerminal: '没有终端可以询问是否同意：请阅读 `blockwatch probe init --show-consent`，然后用 --accept-risks 表示同意，或用 --decline 只测试中立列表'
  },
  init: {
    alreadyRegistered: '已注册为探针 {{probeId}}；保留其令牌',
    registered: '已在 {{url}} 注册为探针 {{probeId}}',
    notRegistered: '配置已写入但没有令牌；`blockwatch probe start` 会在可以时完成注册。',
    wrote: '已写入 {{file}}（同意：{{consent}}）；待上传队列位于 {{dataDir}}',
    consentGiven: '已同意',
    consentDeclined: '已拒绝，仅测试中立列表',
    next: '下一步：blockwatch probe start   （systemd 服务见 docs/volunteers.md）',
    acceptAndDecline: '--accept-risks 和 --decline 互相矛盾；请只传其中一个',
    configExists: '{{file}} 已存在；传入 --force 覆盖它（保留探针 id），或用 --config FILE 指定另一个'
  },
  flags: {
    unknown: '未知选项 {{flag}}；可用选项见 --help',
    missingValue: '{{flag}} 需要一个值；见 --help',
    wholeNumber: '{{flag}} 必须是 {{min}} 到 {{max}} 之间的整数，收到的是 {{value}}',
    language: '{{name}} 必须是 {{choices}} 之一，收到的是 {{value}}'
  },
  probe: {
    unknownSubcommand: '未知的 probe 子命令 {{name}}；可用的有 {{choices}}（见 `blockwatch probe --help`）'
  },
  run: {
    dnsResolversForm: '--dns-resolvers：{{item}} 必须是 udp:IP[:PORT]、tcp:IP[:PORT] 或 doh:URL',
    dnsResolversDoh: '--dns-resolvers：{{item}}：DoH 解析器必须是 https:// 地址',
    dnsResolversAddress: '--dns-resolvers：{{item}}：不是 IP[:PORT]',
    targetsUnreadable: '--targets：无法读取 {{file}}：{{error}}',
    skipped: '已跳过 {{row}}',
    cc: '--cc 必须是 ISO 3166-1 二字母国家代码，例如 IR，收到的是 {{value}}',
    asn: '--asn 必须是 AS 号，例如 AS12880 或 12880，收到的是 {{value}}',
    configMissing: '--config：{{file}} 处没有探针配置；请先运行 `blockwatch probe init`',
    configIgnored: '忽略探针配置：{{error}}',
    control: '--control 必须是汇总服务器的基础地址，例如 http://10.0.0.2:8080，收到的是 {{value}}',
    region: '--region 必须是 ISO 3166-2 代码，例如 IR-23，收到的是 {{value}}',
    ca: '--ca：无法读取 {{file}}：{{error}}',
    fingerprints: '--fingerprints：无法加载 {{source}}：{{error}}',
    noFingerprints: '无法获取封锁页面指纹（离线？）；判定将不使用指纹（见 --fingerprints）',
    output: '--output：无法写入 {{file}}：{{error}}',
    notWritten: '{{target}}：未写入输出，{{reason}}',
    uploadNeedsConfig: '--upload 需要已配置的探针（请运行 `blockwatch probe init`）：{{error}}',
    uploadNoToken: '--upload：此探针没有令牌；请运行 `blockwatch probe init` 完成注册',
    uploaded: '已上传 {{uploaded}}，服务器上已有 {{duplicates}}，被拒绝 {{rejected}}',
    uploadedRest: '已上传 {{uploaded}}，服务器上已有 {{duplicates}}，被拒绝 {{rejected}}；其余留在待上传队列中（{{error}}）'
  },
  progress: {
    measured: '已测量 {{done}}，被封锁 {{blocked}}',
    verdict: '判定',
    count: '数量',
    total: '合计'
  },
  start: {
    once: '--once 必须是 priority 或 full，收到的是 {{value}}',
    logLevel: '--log-level 必须是 trace、debug、info、warn、error 或 silent，收到的是 {{value}}'
  },
  status: {
    aggregator: '汇总服务器',
    consent: '同意',
    pending: '待上传',
    uploaded: '已上传',
    failed: '失败',
    dropped: '已丢弃',
    lastError: '最近错误',
    lastUpload: '最近上传',
    mirrors: '镜像',
    checkIn: '签到',
    nextRuns: '下次运行',
    registeredAs: '{{url}}（探针 {{probeId}}）',
    notRegistered: '{{url}}（未注册：请运行 `blockwatch probe init`）',
    consentGiven: '已同意',
    consentNotGiven: '未同意：仅测试中立列表',
    pendingValue: '{{pending}}（优先 {{priority}}，{{kib}} KiB）',
    uploadedValue: '{{uploaded}}（另有 {{duplicates}} 已在汇总服务器上）',
    failedValue: '{{failed}} 因无效被拒绝（已隔离，不再重试）',
    droppedValue: '{{dropped}}（待上传队列已满）',
    unscrubbable: '{{dropped}}（待上传队列已满）；{{unscrubbable}} 未保存：无法清除地址',
    none: '无',
    never: '从未',
    uploadThrough: '{{at}}，经由 {{route}}',
    mirrorsValue: '{{mirrors}}（在汇总服务器之后依次尝试）',
    checkInValue: '{{at}}：{{cc}} {{asn}}，时钟偏差 {{offsetMs}} 毫秒，列表 {{lists}}',
    nextUnknown: '未知（`blockwatch probe start` 是否在运行？）',
    nextValue: '优先列表 {{priority}}，完整列表 {{full}}（另加最多 {{jitterS}} 秒随机延迟）',
    quarantined: '已隔离 {{uid}}：{{error}}'
  },
  upload: {
    noToken: '此探针没有令牌；请运行 `blockwatch probe init` 完成注册',
    result: '已上传 {{uploaded}}，服务器上已有 {{duplicates}}，被拒绝 {{rejected}}；待上传 {{pending}}',
    stopped: '上传已停止：{{error}}；测量结果仍留在待上传队列中（可尝试 --retry、--upload-proxy 或 `blockwatch probe export`）',
    interrupted: '被中断'
  },
  export: {
    oneFile: '请给出一个要写入的 FILE，例如 `blockwatch probe export out.jsonl.gz`',
    wroteDelivered: '已将 {{count}} 条测量结果写入 {{file}}（标记为已送达）',
    wrotePending: '已将 {{count}} 条测量结果写入 {{file}}（上传之前仍为待上传）',
    next: '在汇总服务器上运行：blockwatch aggregator import {{file}}'
  },
  register: {
    refused: '{{url}} 的汇总服务器拒绝了注册：HTTP {{status}} {{body}}',
    unreachable: '无法连接汇总服务器进行注册：{{tried}}；请检查地址，或使用 --upload-proxy 或 --mirror，或稍后再运行 init'
  },
  config: {
    invalid: '{{file}}：探针配置无效：',
    invalidNoFile: '探针配置无效：',
    notObject: '文件必须包含一个 JSON 对象',
    noFile: '这里没有配置；请先运行 `blockwatch probe init`（或传入 --config FILE）',
    notJson: '不是有效的 JSON：{{error}}',
    unknownKey: '{{key}}：未知的键；允许的键有 {{allowed}}',
    notSection: '{{key}}：必须是含有键 {{allowed}} 的对象，收到的是 {{got}}',
    wholeNumber: '{{key}}：必须是 {{min}} 到 {{max}} 之间的整数，收到的是 {{got}}',
    string: '{{key}}：必须是字符串，收到的是 {{got}}',
    url: '{{key}}：必须是 http:// 或 https:// 地址，收到的是 {{got}}',
    urlExample: '{{key}}：必须是 http:// 或 https:// 地址，例如 https://blockwatch.example.org，收到的是 {{got}}',
    urlList: '{{key}}：必须是 http:// 或 https:// 地址的列表（同一汇总服务器的其他地址），收到的是 {{got}}',
    proxy: '{{key}}：必须是带端口的代理地址：socks5://127.0.0.1:9050（Tor）或 http://proxy.example:3128，收到的是 {{got}}',
    region: '{{key}}：必须是 ISO 3166-2 地区代码（例如 IR-07）或 null，收到的是 {{got}}',
    resolver: '{{key}}：必须是 IP[:PORT]（例如 1.1.1.1 或 9.9.9.9:53），或 null 表示系统解析器，收到的是 {{got}}',
    cron: '{{key}}：必须是 cron 表达式，例如 "0 * * * *"（每小时），收到的是 {{got}}',
    bool: '{{key}}：必须是 true 或 false，收到的是 {{got}}',
    addresses: '{{key}}：必须是以字符串表示的 IP 地址列表，收到的是 {{got}}',
    plainHttp: '警告：{{origin}} 是明文 http:// 且不在本机：路径上的任何人都能看到（并封锁）上传；请使用 https:// 或 --upload-proxy'
  },
  resolver: {
    bad: '解析器必须是 IP 或 IP:PORT（[IPv6]:PORT），收到的是 {{value}}',
    none: '/etc/resolv.conf 中没有 nameserver；请传入 --resolver IP[:PORT]'
  },
  fingerprintList: {
    refused: '拒绝了汇总服务器发来的指纹列表：{{reason}}；保留上一个完好的列表',
    unreachable: '无法从汇总服务器获取指纹列表（{{error}}）；使用上一个完好的列表',
    noLineBreak: '{{file}}：末尾没有换行（被截断了？）',
    badCsv: '{{file}} 第 {{line}} 行：{{error}}',
    headerLacks: '{{file}}：表头缺少 {{columns}}',
    fieldCount: '{{file}} 第 {{line}} 行：有 {{fields}} 个字段，而表头有 {{expected}} 个（被截断了？）',
    nameEmpty: '{{file}} 第 {{line}} 行：name 为空',
    scope: '{{file}} 第 {{line}} 行（{{name}}）：scope 必须是 {{choices}} 之一，收到的是 {{value}}',
    patternType: '{{file}} 第 {{line}} 行（{{name}}）：pattern_type 必须是 {{choices}} 之一，收到的是 {{value}}',
    patternEmpty: '{{file}} 第 {{line}} 行（{{name}}）：pattern 为空',
    dnsLocation: '{{file}} 第 {{line}} 行（{{name}}）：location_found 必须是 dns，收到的是 {{value}}',
    dnsPattern: '{{file}} 第 {{line}} 行（{{name}}）：pattern 必须是 IP 地址或 DNS 名称，收到的是 {{value}}',
    httpLocation: '{{file}} 第 {{line}} 行（{{name}}）：location_found 必须是 body 或 header.NAME，收到的是 {{value}}',
    badRegexp: '{{file}} 第 {{line}} 行（{{name}}）：pattern 不是有效的正则表达式',
    countries: '{{file}} 第 {{line}} 行（{{name}}）：expected_countries 必须是两个字母的代码，收到的是 {{value}}',
    empty: '{{file}}：为空',
    shrunk: '{{file}}：只有 {{rows}} 行，而上一个完好的列表有 {{last}} 行（应至少有 {{share}}%；被截断了？）',
    versions: '两个文件的版本不同（列表在两次下载之间变了）；在下次尝试之前保留上一个完好的列表'
  },
  log: {
    consentChanged: '同意说明已更改；请运行 `blockwatch probe init --force` 重新阅读并同意；在此之前只测量中立列表',
    noTargetList: '尚未从汇总服务器收到目标列表；测量中立列表和内置列表',
    skippedRow: '已跳过一行错误数据',
    checkInFailed: '签到失败；使用最近收到的列表运行',
    noToken: '没有探针令牌；请运行 `blockwatch probe init` 完成注册，之后开始上传',
    outboxEmpty: '待上传队列已清空',
    uploadFailedUnexpectedly: '上传意外失败',
    previousRunGoing: '该列表的上一次运行仍在进行；已跳过',
    missedRun: '错过了一次计划运行（机器处于休眠或繁忙状态）；等待下一次',
    runStarted: '运行开始',
    runFinished: '运行结束',
    runFailed: '运行失败',
    firstRunScheduled: '已安排首次运行',
    notReachableTryNext: '无法通过此地址连接汇总服务器；尝试下一个',
    rejectedInvalid: '汇总服务器以无效为由拒绝了一条测量结果；已隔离，不再重试',
    uploadedBatch: '已上传一批',
    uploadFailedRetry: '上传失败；稍后重试',
    notScrubbed: '一条测量结果无法清除探针地址；不保存也不上传',
    lowerPriority: '无法降低 CPU 优先级',
    registered: '已注册',
    notRegisteredYet: '尚未注册；测量结果在待上传队列中等待，直到下次启动时注册成功',
    outboxFullDropped: '待上传队列已满：丢弃了一条测量结果（计入 `probe status`）',
    uploadIncomplete: '上传未完成；测量结果仍留在待上传队列中',
    schedulerStarted: '调度器已启动',
    stopping: '正在停止',
    stopped: '已停止',
    fingerprintsUpdated: '已从汇总服务器更新指纹列表'
  },
  help: {
    probe: `blockwatch probe — 从这个网络测量审查

用法：blockwatch probe <子命令> [选项]

子命令：
  run       测量一个目标列表一次，并写出测量结果
  init      说明风险、征求同意后写入探针配置
  start     按计划运行目标列表并上传结果
  status    待上传、已上传、失败和已丢弃的数量；下次运行时间
  upload    立即上传待上传的测量结果
  export    把待上传的测量结果写入一个可以带出去的文件

子命令的选项见 \`blockwatch probe <子命令> --help\`。每个子命令都接受
--lang LANG：en、fa、ru 或 zh-CN（默认：BLOCKWATCH_LANG，否则按系统区域设置）。

示例：
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    run: `blockwatch probe run — 测量一个目标列表一次，并写出测量结果

用法：blockwatch probe run --targets FILE|citizenlab:CC|messaging [选项]

  --targets SRC        Citizen Lab CSV 文件；citizenlab:CC 表示国家 CC 的当前
                       列表加全球列表（联网获取）；或 "messaging" 表示内置的
                       WhatsApp、Telegram、Signal、Twitter 和 Facebook 列表（默认）
  --resolver IP[:PORT] DNS 解析器（默认：/etc/resolv.conf）
  --control URL        汇总服务器的基础地址，用作对照点
                       （例如 http://10.0.0.2:8080）；默认：已配置探针的对照点
                       或汇总服务器；没有对照点时判定为 null
  --ca FILE            除系统证书外额外信任的 CA 证书（PEM）
  --concurrency N      同时测量的目标数（默认 8；每个主机 2 个）
  --output FILE.jsonl  每完成一条测量就写出（"-"：stdout）
  --cc CC --asn ASN    网络所在国家和 AS 号（默认：最近一次签到的值，
                       否则为 ZZ 和 AS0，即未知）
  --region CODE        您所在的 ISO 3166-2 地区，例如 IR-23
  --fingerprints SRC   OONI 封锁页面指纹：含 fingerprints_dns.csv 和
                       fingerprints_http.csv 的文件夹、一个 URL，或 "none"
                       （默认：已配置探针的汇总服务器列表，否则为磁盘上最近
                       一份完好的副本；没有探针配置时，联网从 github.com/ooni 获取）
  --dns-resolvers LIST dns:// 目标还要对比的解析器：以逗号分隔的
                       udp:IP[:PORT]、tcp:IP[:PORT]、doh:URL 或 tcp:system
                       （默认：{{dnsResolvers}}）
  --upload             同时把测量结果放入本探针的待上传队列并上传
                       （需要先运行 \`blockwatch probe init\`）
  --no-upload          不上传（默认）
  --config FILE        探针配置（默认 $XDG_CONFIG_HOME/blockwatch/probe.json，
                       如果存在）：没有选项指定时，使用其中的对照点、解析器、
                       CA、地区和清除地址列表
  --data-dir DIR       探针的待上传队列和状态（默认 $XDG_STATE_HOME/blockwatch）
  --lang LANG          en、fa、ru 或 zh-CN（默认：BLOCKWATCH_LANG，否则按系统区域设置）

写入 --output 的测量结果会像待上传队列一样，清除本机的公网地址
（以及已配置探针得知的地址）。

无论判定如何，退出码都是 0。

示例：
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    init: `blockwatch probe init — 说明风险、征求同意后写入探针配置

用法：blockwatch probe init [选项]

  --aggregator URL         汇总服务器（默认 http://127.0.0.1:8080）
  --mirror URL             同一汇总服务器的另一个地址（前置、镜像），第一个
                           被封锁时依次尝试；可重复；--mirror '' 清除它们
  --region CODE            申报的 ISO 3166-2 地区，例如 IR-07
  --resolver IP[:PORT]     DNS 解析器（默认：系统的）
  --control URL            对照点（默认：汇总服务器）
  --ca FILE                额外的 CA 证书（PEM）
  --priority-schedule CRON 优先列表的计划（默认 "0 * * * *"，每小时）
  --full-schedule CRON     完整列表的计划（默认 "30 3 * * *"，每天）
  --jitter S               随机启动延迟，秒（默认 600）
  --max-memory MB          V8 堆上限（默认 256；0：node 的默认值）
  --nice N                 CPU nice 值 0-19（默认 10）
  --bandwidth KBPS         带宽上限，KiB/s（默认 0：不限）
  --concurrency N          同时测量的目标数（默认 4）
  --outbox-max MB          待上传队列上限（默认 200）
  --upload-proxy URL       socks5://HOST:PORT（Tor：socks5://127.0.0.1:9050）或 http(s)://HOST:PORT，
                           用于注册、签到和上传
  --accept-risks           无终端安装：我已阅读说明（\`--show-consent\`）并同意
  --decline                无终端安装且不同意：只测试一小份中立列表
  --show-consent           打印同意说明后退出
  --lang LANG              en、fa、ru 或 zh-CN（默认：BLOCKWATCH_LANG，否则按系统区域设置）
  --no-register            写入配置但不注册
  --force                  覆盖已有配置（保留其探针 id）
  --config FILE            配置路径（默认 $XDG_CONFIG_HOME/blockwatch/probe.json）
  --data-dir DIR           待上传队列和状态（默认 $XDG_STATE_HOME/blockwatch）

示例：
  blockwatch probe init --aggregator https://blockwatch.example.org --region IR-07 --accept-risks
`,
    start: `blockwatch probe start — 按计划运行目标列表并上传结果

用法：blockwatch probe start [选项]

  --once LIST              运行一次 LIST（priority 或 full），上传后退出
  --first-run-within S     另外在启动后 S 秒内运行一次优先列表
  --upload-proxy URL       签到和上传使用的 socks5://HOST:PORT 或 http(s)://HOST:PORT，覆盖配置
  --log-level LEVEL        trace、debug、info（默认）、warn、error
  --log-format FORMAT      pretty（每个事件一行可读文字；在终端中为默认）
                           或 json（pino JSON 行；输出到管道或文件时为默认）；LOG_FORMAT
  --also-measure URL       把 URL 加入中立列表（可重复；npm start 会加入本地汇总服务器）
  --no-messaging-list      不测量内置的即时通讯列表（WhatsApp、Telegram、Signal、
                           Twitter、Facebook）；您同意后，它在汇总服务器的列表之后运行
  --config FILE            配置路径（默认 $XDG_CONFIG_HOME/blockwatch/probe.json）
  --data-dir DIR           待上传队列和状态（默认 $XDG_STATE_HOME/blockwatch）
  --lang LANG              en、fa、ru 或 zh-CN（默认：BLOCKWATCH_LANG，否则按系统区域设置）

一直运行，直到收到 SIGTERM 或 SIGINT。日志写到 stdout。

示例：
  blockwatch probe start --upload-proxy socks5://127.0.0.1:9050
`,
    status: `blockwatch probe status — 待上传、已上传、失败和已丢弃的数量；下次运行时间

用法：blockwatch probe status [--json] [--config FILE] [--data-dir DIR] [--lang LANG]

示例：
  blockwatch probe status --json
`,
    upload: `blockwatch probe upload — 立即上传待上传的测量结果

用法：blockwatch probe upload [--retry] [--upload-proxy URL] [--config FILE] [--data-dir DIR] [--lang LANG]

  --retry              不断重试（带随机抖动的退避），直到待上传队列为空
  --upload-proxy URL   socks5://HOST:PORT，覆盖配置

示例：
  blockwatch probe upload --upload-proxy socks5://127.0.0.1:9050
`,
    export: `blockwatch probe export — 把待上传的测量结果写入一个可以带出去的文件

用法：blockwatch probe export FILE[.gz] [--mark-delivered] [--config FILE] [--data-dir DIR] [--lang LANG]

  --mark-delivered   把导出的测量结果算作已上传（仅在文件已送到汇总服务器之后）

然后在汇总服务器上运行：blockwatch aggregator import FILE

示例：
  blockwatch probe export /media/usb/measurements.jsonl.gz
`
  }
}
