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
    next: '下一步：blockwatch probe start   （systemd 服务见 docs/volunteers.md）'
  }
}
