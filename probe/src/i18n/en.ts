/**
 * The probe's English messages: the source every other catalogue
 * translates, key for key ({@link Catalogue}). `{{name}}` marks a value put
 * in at run time; keep it, untranslated, in every language.
 *
 * Everything the probe's commands print for a person is here: the consent
 * text, prompts and answers, errors that name a flag or a config key, the
 * progress line and summary of `probe run`, `probe status`, upload and
 * export results, and each command's --help. What a program reads stays
 * English and outside: --json output, the JSON logs, OONI failure strings,
 * flag names, verdict labels (ok, blocked:dns), file paths and values.
 * Where English is the same as shared/src/args.ts prints (intFlag), the two
 * must agree: English output is what the tests assert.
 */
export const en = {
  consent: {
    text: `Before you run a blockwatch probe, please read this.

What the probe does
  It visits websites and network services from your connection (news, human
  rights, social media, messaging apps, SMS gateways and others in the
  target lists) and records whether they could be reached, and how they
  failed. It sends these measurements to the aggregator you choose, which
  publishes them.

What it reveals
  - The published measurements carry your country, your network (ASN) and
    the region you declare, but not your IP address: the probe removes it
    from every measurement before storing it, and the aggregator never
    stores it.
  - Anyone watching your connection (your provider, your employer, your
    government) can see that your connection visits the sites in the lists,
    some of which may be illegal or politically sensitive where you live,
    and may be able to tell that you run a censorship probe.
  - The aggregator sees your IP address when the probe talks to it. Use
    --upload-proxy socks5://127.0.0.1:9050 (Tor) to hide it from the
    aggregator and from the path.

Risks
  In some countries, accessing blocked content or taking part in
  censorship measurement can have legal or other consequences. We cannot
  judge the risk for you. If you are unsure, do not consent: the probe will
  then only test a small list of neutral sites.

You can stop at any time: stop the service and delete the config and
outbox (see docs/privacy.md and docs/volunteers.md).
`,
    question: 'Do you consent to run a probe with these risks? Type "{{yes}}" to consent, anything else to decline: ',
    yes: 'yes',
    noTerminal: 'no terminal to ask for consent: read `blockwatch probe init --show-consent`, then pass --accept-risks to consent or --decline to test only a neutral list'
  },
  init: {
    alreadyRegistered: 'already registered as probe {{probeId}}; keeping its token',
    registered: 'registered with {{url}} as probe {{probeId}}',
    notRegistered: 'The config is written without a token; `blockwatch probe start` registers when it can.',
    wrote: 'wrote {{file}} (consent: {{consent}}); outbox in {{dataDir}}',
    consentGiven: 'given',
    consentDeclined: 'declined, neutral list only',
    next: 'Next: blockwatch probe start   (see docs/volunteers.md for a systemd unit)',
    acceptAndDecline: '--accept-risks and --decline contradict each other; pass one',
    configExists: '{{file}} exists; pass --force to overwrite it (its probe id is kept), or --config FILE for another'
  },
  flags: {
    unknown: 'unknown option {{flag}}; see --help for the options',
    missingValue: '{{flag}} needs a value; see --help',
    wholeNumber: '{{flag}} must be a whole number from {{min}} to {{max}}, got {{value}}',
    language: '{{name}} must be one of {{choices}}, got {{value}}'
  },
  probe: {
    unknownSubcommand: 'unknown probe subcommand {{name}}; one of {{choices}} (see `blockwatch probe --help`)'
  },
  run: {
    dnsResolversForm: '--dns-resolvers: {{item}} must be udp:IP[:PORT], tcp:IP[:PORT] or doh:URL',
    dnsResolversDoh: '--dns-resolvers: {{item}}: a DoH resolver is an https:// URL',
    dnsResolversAddress: '--dns-resolvers: {{item}}: not IP[:PORT]',
    targetsUnreadable: '--targets: cannot read {{file}}: {{error}}',
    skipped: 'skipped {{row}}',
    cc: '--cc must be an ISO 3166-1 alpha-2 code such as IR, got {{value}}',
    asn: '--asn must be an AS number such as AS12880 or 12880, got {{value}}',
    configMissing: '--config: no probe config at {{file}}; run `blockwatch probe init` first',
    configIgnored: 'ignoring the probe config: {{error}}',
    control: "--control must be the aggregator's base URL such as http://10.0.0.2:8080, got {{value}}",
    region: '--region must be an ISO 3166-2 code such as IR-23, got {{value}}',
    ca: '--ca: cannot read {{file}}: {{error}}',
    fingerprints: '--fingerprints: cannot load {{source}}: {{error}}',
    noFingerprints: 'could not fetch the blockpage fingerprints (offline?); verdicts will not use them (see --fingerprints)',
    output: '--output: cannot write {{file}}: {{error}}',
    notWritten: '{{target}}: not written to the output, {{reason}}',
    uploadNeedsConfig: '--upload needs a configured probe (run `blockwatch probe init`): {{error}}',
    uploadNoToken: '--upload: this probe has no token; run `blockwatch probe init` to register',
    uploaded: 'uploaded {{uploaded}}, already there {{duplicates}}, rejected {{rejected}}',
    uploadedRest: 'uploaded {{uploaded}}, already there {{duplicates}}, rejected {{rejected}}; the rest stay in the outbox ({{error}})'
  },
  progress: {
    measured: '{{done}} measured, {{blocked}} blocked',
    verdict: 'verdict',
    count: 'count',
    total: 'total'
  },
  start: {
    once: '--once must be priority or full, got {{value}}',
    logLevel: '--log-level must be trace, debug, info, warn, error or silent, got {{value}}'
  },
  status: {
    aggregator: 'aggregator',
    consent: 'consent',
    pending: 'pending',
    uploaded: 'uploaded',
    failed: 'failed',
    dropped: 'dropped',
    lastError: 'last error',
    lastUpload: 'last upload',
    mirrors: 'mirrors',
    checkIn: 'check-in',
    nextRuns: 'next runs',
    registeredAs: '{{url}} (probe {{probeId}})',
    notRegistered: '{{url}} (not registered: run `blockwatch probe init`)',
    consentGiven: 'given',
    consentNotGiven: 'not given: neutral list only',
    pendingValue: '{{pending}} ({{priority}} priority, {{kib}} KiB)',
    uploadedValue: '{{uploaded}} (+{{duplicates}} already on the aggregator)',
    failedValue: '{{failed}} rejected as invalid (quarantined, not retried)',
    droppedValue: '{{dropped}} (outbox full)',
    unscrubbable: '{{dropped}} (outbox full); {{unscrubbable}} not stored: could not be scrubbed',
    none: 'none',
    never: 'never',
    uploadThrough: '{{at}} through {{route}}',
    mirrorsValue: '{{mirrors}} (tried in order after the aggregator)',
    checkInValue: '{{at}}: {{cc}} {{asn}}, clock offset {{offsetMs}} ms, lists {{lists}}',
    nextUnknown: 'unknown (is `blockwatch probe start` running?)',
    nextValue: 'priority {{priority}}, full {{full}} (+ up to {{jitterS}} s jitter)',
    quarantined: 'quarantined {{uid}}: {{error}}'
  },
  upload: {
    noToken: 'this probe has no token; run `blockwatch probe init` to register',
    result: 'uploaded {{uploaded}}, already there {{duplicates}}, rejected {{rejected}}; pending {{pending}}',
    stopped: 'upload stopped: {{error}}; the measurements stay in the outbox (try --retry, --upload-proxy, or `blockwatch probe export`)',
    interrupted: 'interrupted'
  },
  export: {
    oneFile: 'give one FILE to write, as in `blockwatch probe export out.jsonl.gz`',
    wroteDelivered: 'wrote {{count}} measurements to {{file}} (marked delivered)',
    wrotePending: 'wrote {{count}} measurements to {{file}} (they stay pending until uploaded)',
    next: 'On the aggregator: blockwatch aggregator import {{file}}'
  },
  register: {
    refused: 'the aggregator at {{url}} refused the registration: HTTP {{status}} {{body}}',
    unreachable: 'could not reach the aggregator to register at {{tried}}; check the URL, or use --upload-proxy or --mirror, or run init again later'
  },
  config: {
    invalid: '{{file}}: invalid probe config:',
    invalidNoFile: 'invalid probe config:',
    notObject: 'the file must hold a JSON object',
    noFile: 'no config here; run `blockwatch probe init` first (or pass --config FILE)',
    notJson: 'not valid JSON: {{error}}',
    unknownKey: '{{key}}: unknown key; allowed keys are {{allowed}}',
    notSection: '{{key}}: must be an object with keys {{allowed}}, got {{got}}',
    wholeNumber: '{{key}}: must be a whole number from {{min}} to {{max}}, got {{got}}',
    string: '{{key}}: must be a string, got {{got}}',
    url: '{{key}}: must be an http:// or https:// URL, got {{got}}',
    urlExample: '{{key}}: must be an http:// or https:// URL such as https://blockwatch.example.org, got {{got}}',
    urlList: '{{key}}: must be a list of http:// or https:// URLs (other addresses of the same aggregator), got {{got}}',
    proxy: '{{key}}: must be a proxy URL with a port: socks5://127.0.0.1:9050 (Tor) or http://proxy.example:3128, got {{got}}',
    region: '{{key}}: must be an ISO 3166-2 subdivision code such as IR-07 or null, got {{got}}',
    resolver: '{{key}}: must be IP[:PORT] such as 1.1.1.1 or 9.9.9.9:53, or null for the system resolver, got {{got}}',
    cron: '{{key}}: must be a cron expression such as "0 * * * *" (hourly), got {{got}}',
    bool: '{{key}}: must be true or false, got {{got}}',
    addresses: '{{key}}: must be a list of IP addresses as strings, got {{got}}',
    plainHttp: 'warning: {{origin}} is plain http:// and not on this machine: anyone on the path can see (and block) the uploads; use https:// or --upload-proxy'
  },
  resolver: {
    bad: 'resolver must be IP or IP:PORT ([IPv6]:PORT), got {{value}}',
    none: 'no nameserver in /etc/resolv.conf; pass --resolver IP[:PORT]'
  },
  fingerprintList: {
    refused: 'fingerprint list from the aggregator refused: {{reason}}; keeping the last good list',
    unreachable: 'could not fetch the fingerprint list from the aggregator ({{error}}); using the last good list',
    noLineBreak: '{{file}}: does not end with a line break (cut short?)',
    badCsv: '{{file}} line {{line}}: {{error}}',
    headerLacks: '{{file}}: header lacks {{columns}}',
    fieldCount: '{{file}} line {{line}}: {{fields}} fields, the header has {{expected}} (cut short?)',
    nameEmpty: '{{file}} line {{line}}: name is empty',
    scope: '{{file}} line {{line}} ({{name}}): scope must be one of {{choices}}, got {{value}}',
    patternType: '{{file}} line {{line}} ({{name}}): pattern_type must be one of {{choices}}, got {{value}}',
    patternEmpty: '{{file}} line {{line}} ({{name}}): pattern is empty',
    dnsLocation: '{{file}} line {{line}} ({{name}}): location_found must be dns, got {{value}}',
    dnsPattern: '{{file}} line {{line}} ({{name}}): pattern must be an IP address or a DNS name, got {{value}}',
    httpLocation: '{{file}} line {{line}} ({{name}}): location_found must be body or header.NAME, got {{value}}',
    badRegexp: '{{file}} line {{line}} ({{name}}): pattern is not a valid regular expression',
    countries: '{{file}} line {{line}} ({{name}}): expected_countries must be two-letter codes, got {{value}}',
    empty: '{{file}}: empty',
    shrunk: '{{file}}: {{rows}} rows where the last good list had {{last}} (at least {{share}}% expected; cut short?)',
    versions: 'the two files are of different versions (the list changed between them); keeping the last good list until the next try'
  },
  log: {
    consentChanged: 'the consent text changed; run `blockwatch probe init --force` to read and consent again; measuring the neutral list until then',
    noTargetList: 'no target list from the aggregator yet; measuring the neutral list and the built-in lists',
    skippedRow: 'skipped a bad row',
    checkInFailed: 'check-in failed; running with the last lists received',
    noToken: 'no probe token; run `blockwatch probe init` to register, then uploads start',
    outboxEmpty: 'outbox empty',
    uploadFailedUnexpectedly: 'upload failed unexpectedly',
    previousRunGoing: 'previous run of this list still going; skipped',
    missedRun: 'missed a scheduled run (the machine was asleep or busy); waiting for the next',
    runStarted: 'run started',
    runFinished: 'run finished',
    runFailed: 'run failed',
    firstRunScheduled: 'first run scheduled',
    notReachableTryNext: 'the aggregator is not reachable at this address; trying the next',
    rejectedInvalid: 'the aggregator rejected a measurement as invalid; quarantined, not retried',
    uploadedBatch: 'uploaded a batch',
    uploadFailedRetry: 'upload failed; will retry',
    notScrubbed: 'a measurement could not be scrubbed of the probe address; it is not stored or uploaded',
    lowerPriority: 'could not lower the CPU priority',
    registered: 'registered',
    notRegisteredYet: 'not registered yet; measurements wait in the outbox until registration succeeds at the next start',
    outboxFullDropped: 'outbox full: dropped a measurement (counted in `probe status`)',
    uploadIncomplete: 'upload incomplete; the measurements stay in the outbox',
    schedulerStarted: 'scheduler started',
    stopping: 'stopping',
    stopped: 'stopped',
    fingerprintsUpdated: 'fingerprint list updated from the aggregator'
  },
  help: {
    probe: `blockwatch probe — measure censorship from this network

Usage: blockwatch probe <subcommand> [options]

Subcommands:
  run       measure a target list once and write the measurements
  init      write a probe config after explaining the risks and asking consent
  start     run target lists on a schedule and upload the results
  status    pending, uploaded, failed and dropped counts; the next run
  upload    upload the pending measurements now
  export    write the pending measurements to a file someone can carry out

Run \`blockwatch probe <subcommand> --help\` for its options. Every subcommand
takes --lang LANG: en, fa, ru or zh-CN (default: BLOCKWATCH_LANG, else the locale).

Example:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    run: `blockwatch probe run — measure a target list once and write the measurements

Usage: blockwatch probe run --targets FILE|citizenlab:CC|messaging [options]

  --targets SRC        a Citizen Lab CSV file; citizenlab:CC for the current
                       list of country CC plus the global list (online); or
                       "messaging" for the built-in WhatsApp, Telegram,
                       Signal, Twitter and Facebook list (the default)
  --resolver IP[:PORT] the DNS resolver (default: /etc/resolv.conf)
  --control URL        the aggregator's base URL, for the control vantage
                       (e.g. http://10.0.0.2:8080); default: the configured
                       probe's control or aggregator; without one verdicts are null
  --ca FILE            extra CA certificates (PEM) to trust beside the system's
  --concurrency N      targets measured at once (default 8; 2 per host)
  --output FILE.jsonl  write each measurement as it completes ("-": stdout)
  --cc CC --asn ASN    the network's country and AS number (default: the last
                       check-in's, else ZZ and AS0, unknown)
  --region CODE        your ISO 3166-2 region, e.g. IR-23
  --fingerprints SRC   OONI blockpage fingerprints: a folder with
                       fingerprints_dns.csv and fingerprints_http.csv, a URL,
                       or "none" (default: a configured probe's aggregator's
                       list, else the last good copy on disk; without a probe
                       config, fetched from github.com/ooni when online)
  --dns-resolvers LIST the resolvers dns:// targets are also compared with:
                       comma-separated udp:IP[:PORT], tcp:IP[:PORT], doh:URL, or
                       tcp:system (default: {{dnsResolvers}})
  --upload             also queue the measurements in this probe's outbox and
                       upload them (needs \`blockwatch probe init\`)
  --no-upload          do not upload (the default)
  --config FILE        the probe config (default $XDG_CONFIG_HOME/blockwatch/probe.json,
                       when there is one): its control, resolver, CA, region and
                       scrub list are used where no flag says otherwise
  --data-dir DIR       the probe's outbox and state (default $XDG_STATE_HOME/blockwatch)
  --lang LANG          en, fa, ru or zh-CN (default: BLOCKWATCH_LANG, else the locale)

Measurements written to --output are scrubbed of this machine's public
addresses (and of those the configured probe learned) like the outbox's.

The exit status is 0 whatever the verdicts.

Example:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    init: `blockwatch probe init — write a probe config after explaining the risks and asking consent

Usage: blockwatch probe init [options]

  --aggregator URL         the aggregator (default http://127.0.0.1:8080)
  --mirror URL             another address of the same aggregator (a front, a mirror),
                           tried in order when the first is blocked; repeatable;
                           --mirror '' forgets them
  --region CODE            declared ISO 3166-2 region, e.g. IR-07
  --resolver IP[:PORT]     DNS resolver (default: the system's)
  --control URL            control vantage (default: the aggregator)
  --ca FILE                extra CA certificates (PEM)
  --priority-schedule CRON priority list schedule (default "0 * * * *", hourly)
  --full-schedule CRON     full list schedule (default "30 3 * * *", daily)
  --jitter S               random start delay, seconds (default 600)
  --max-memory MB          V8 heap cap (default 256; 0: node's default)
  --nice N                 CPU niceness 0-19 (default 10)
  --bandwidth KBPS         bandwidth cap, KiB/s (default 0: none)
  --concurrency N          targets measured at once (default 4)
  --outbox-max MB          outbox bound (default 200)
  --upload-proxy URL       socks5://HOST:PORT (Tor: socks5://127.0.0.1:9050) or http(s)://HOST:PORT
                           for registration, check-in and upload
  --accept-risks           headless install: I have read the text (\`--show-consent\`) and consent
  --decline                headless install without consent: only a small neutral list is tested
  --show-consent           print the consent text and exit
  --lang LANG              en, fa, ru or zh-CN (default: BLOCKWATCH_LANG, else the locale)
  --no-register            write the config without registering
  --force                  overwrite an existing config (keeps its probe id)
  --config FILE            config path (default $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           outbox and state (default $XDG_STATE_HOME/blockwatch)

Example:
  blockwatch probe init --aggregator https://blockwatch.example.org --region IR-07 --accept-risks
`,
    start: `blockwatch probe start — run target lists on a schedule and upload the results

Usage: blockwatch probe start [options]

  --once LIST              run LIST (priority or full) once, upload, and exit
  --first-run-within S     also run the priority list once within S seconds of starting
  --upload-proxy URL       socks5://HOST:PORT or http(s)://HOST:PORT for check-in and upload, overriding the config
  --log-level LEVEL        trace, debug, info (default), warn, error
  --log-format FORMAT      pretty (one readable line per event; default at a terminal)
                           or json (pino JSON lines; default into a pipe or file); LOG_FORMAT
  --also-measure URL       add URL to the neutral list (repeatable; npm start adds the local aggregator)
  --no-messaging-list      do not measure the built-in messaging list (WhatsApp, Telegram,
                           Signal, Twitter, Facebook), which runs after the aggregator's lists
                           once you consented
  --config FILE            config path (default $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           outbox and state (default $XDG_STATE_HOME/blockwatch)
  --lang LANG              en, fa, ru or zh-CN (default: BLOCKWATCH_LANG, else the locale)

Runs until SIGTERM or SIGINT. Logs go to stdout.

Example:
  blockwatch probe start --upload-proxy socks5://127.0.0.1:9050
`,
    status: `blockwatch probe status — pending, uploaded, failed and dropped counts; the next run

Usage: blockwatch probe status [--json] [--config FILE] [--data-dir DIR] [--lang LANG]

Example:
  blockwatch probe status --json
`,
    upload: `blockwatch probe upload — upload the pending measurements now

Usage: blockwatch probe upload [--retry] [--upload-proxy URL] [--config FILE] [--data-dir DIR] [--lang LANG]

  --retry              keep retrying (backoff with jitter) until the outbox is empty
  --upload-proxy URL   socks5://HOST:PORT, overriding the config

Example:
  blockwatch probe upload --upload-proxy socks5://127.0.0.1:9050
`,
    export: `blockwatch probe export — write the pending measurements to a file someone can carry out

Usage: blockwatch probe export FILE[.gz] [--mark-delivered] [--config FILE] [--data-dir DIR] [--lang LANG]

  --mark-delivered   count the exported measurements as uploaded (only once the file has reached the aggregator)

Then, on the aggregator: blockwatch aggregator import FILE

Example:
  blockwatch probe export /media/usb/measurements.jsonl.gz
`
  }
}

/** The shape every catalogue has: the same keys as English, each a string. */
export type Catalogue = { [S in keyof typeof en]: { [K in keyof (typeof en)[S]]: string } }
