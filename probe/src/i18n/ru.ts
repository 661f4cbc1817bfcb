/** Russian. Translates en.ts key for key. */
import type { Catalogue } from './en.ts'

export const ru: Catalogue = {
  consent: {
    text: `Прежде чем запускать зонд blockwatch, пожалуйста, прочитайте это.

Что делает зонд
  Он обращается к веб-сайтам и сетевым сервисам через ваше подключение
  (новости, права человека, социальные сети, мессенджеры, SMS-шлюзы и другие
  ресурсы из списков целей) и записывает, были ли они доступны и как именно
  не удалось к ним подключиться. Эти измерения он отправляет выбранному вами
  агрегатору, который их публикует.

Что становится известно
  - Опубликованные измерения содержат вашу страну, вашу сеть (ASN) и
    указанный вами регион, но не ваш IP-адрес: зонд удаляет его из каждого
    измерения перед сохранением, а агрегатор никогда его не хранит.
  - Любой, кто наблюдает за вашим подключением (ваш провайдер, работодатель,
    государство), может увидеть, что с вашего подключения открываются сайты
    из списков, часть которых может быть незаконной или политически
    чувствительной там, где вы живёте, и может понять, что вы запускаете
    зонд для измерения цензуры.
  - Агрегатор видит ваш IP-адрес, когда зонд с ним связывается. Используйте
    --upload-proxy socks5://127.0.0.1:9050 (Tor), чтобы скрыть его от
    агрегатора и от наблюдателей на пути.

Риски
  В некоторых странах доступ к заблокированным материалам или участие в
  измерении цензуры может иметь юридические или иные последствия. Мы не
  можем оценить этот риск за вас. Если вы не уверены, не давайте согласия:
  тогда зонд будет проверять только небольшой список нейтральных сайтов.

Вы можете остановиться в любой момент: остановите службу и удалите
конфигурацию и исходящую очередь (outbox) (см. docs/privacy.md и
docs/volunteers.md).
`,
    question: 'Согласны ли вы запустить зонд с этими рисками? Введите «{{yes}}», чтобы согласиться, или что угодно другое, чтобы отказаться: ',
    yes: 'да',
    noTerminal:
      'нет терминала, чтобы спросить согласие: прочитайте `blockwatch probe init --show-consent`, затем укажите --accept-risks, чтобы согласиться, или --decline, чтобы проверять только нейтральный список'
  },
  init: {
    alreadyRegistered: 'уже зарегистрирован как зонд {{probeId}}; его токен сохранён',
    registered: 'зарегистрирован на {{url}} как зонд {{probeId}}',
    notRegistered: 'Конфигурация записана без токена; `blockwatch probe start` зарегистрируется, когда сможет.',
    wrote: 'записан {{file}} (согласие: {{consent}}); исходящая очередь в {{dataDir}}',
    consentGiven: 'дано',
    consentDeclined: 'не дано, только нейтральный список',
    next: 'Дальше: blockwatch probe start   (служба systemd описана в docs/volunteers.md)',
    acceptAndDecline: '--accept-risks и --decline противоречат друг другу; укажите один',
    configExists: '{{file}} уже есть; укажите --force, чтобы перезаписать (id зонда сохранится), или --config FILE для другого файла'
  },
  flags: {
    unknown: 'неизвестный параметр {{flag}}; список параметров: --help',
    missingValue: '{{flag}} требует значения; см. --help',
    wholeNumber: '{{flag}} должен быть целым числом от {{min}} до {{max}}, получено {{value}}',
    language: '{{name}} должен быть одним из: {{choices}}, получено {{value}}'
  },
  probe: {
    unknownSubcommand: 'неизвестная подкоманда probe {{name}}; допустимы: {{choices}} (см. `blockwatch probe --help`)'
  },
  run: {
    dnsResolversForm: '--dns-resolvers: {{item}} должен иметь вид udp:IP[:PORT], tcp:IP[:PORT] или doh:URL',
    dnsResolversDoh: '--dns-resolvers: {{item}}: резолвер DoH задаётся адресом https://',
    dnsResolversAddress: '--dns-resolvers: {{item}}: это не IP[:PORT]',
    targetsUnreadable: '--targets: не удаётся прочитать {{file}}: {{error}}',
    skipped: 'пропущено: {{row}}',
    cc: '--cc должен быть кодом страны ISO 3166-1 alpha-2, например IR, получено {{value}}',
    asn: '--asn должен быть номером AS, например AS12880 или 12880, получено {{value}}',
    configMissing: '--config: нет конфигурации зонда в {{file}}; сначала выполните `blockwatch probe init`',
    configIgnored: 'конфигурация зонда не используется: {{error}}',
    control: '--control должен быть базовым адресом агрегатора, например http://10.0.0.2:8080, получено {{value}}',
    region: '--region должен быть кодом ISO 3166-2, например IR-23, получено {{value}}',
    ca: '--ca: не удаётся прочитать {{file}}: {{error}}',
    fingerprints: '--fingerprints: не удаётся загрузить {{source}}: {{error}}',
    noFingerprints: 'не удалось получить отпечатки страниц блокировки (нет сети?); вердикты их не учитывают (см. --fingerprints)',
    output: '--output: не удаётся записать {{file}}: {{error}}',
    notWritten: '{{target}}: не записано в вывод, {{reason}}',
    uploadNeedsConfig: 'для --upload нужен настроенный зонд (выполните `blockwatch probe init`): {{error}}',
    uploadNoToken: '--upload: у этого зонда нет токена; выполните `blockwatch probe init`, чтобы зарегистрироваться',
    uploaded: 'выгружено {{uploaded}}, уже были на сервере {{duplicates}}, отклонено {{rejected}}',
    uploadedRest: 'выгружено {{uploaded}}, уже были на сервере {{duplicates}}, отклонено {{rejected}}; остальные остаются в исходящей очереди ({{error}})'
  },
  progress: {
    measured: 'измерено {{done}}, заблокировано {{blocked}}',
    verdict: 'вердикт',
    count: 'число',
    total: 'всего'
  },
  start: {
    once: '--once должен быть priority или full, получено {{value}}',
    logLevel: '--log-level должен быть trace, debug, info, warn, error или silent, получено {{value}}'
  },
  status: {
    aggregator: 'агрегатор',
    consent: 'согласие',
    pending: 'ожидают',
    uploaded: 'выгружено',
    failed: 'отклонено',
    dropped: 'отброшено',
    lastError: 'последняя ошибка',
    lastUpload: 'последняя выгрузка',
    mirrors: 'зеркала',
    checkIn: 'отметка',
    nextRuns: 'следующие запуски',
    registeredAs: '{{url}} (зонд {{probeId}})',
    notRegistered: '{{url}} (не зарегистрирован: выполните `blockwatch probe init`)',
    consentGiven: 'дано',
    consentNotGiven: 'не дано: только нейтральный список',
    pendingValue: '{{pending}} (приоритетных {{priority}}, {{kib}} КиБ)',
    uploadedValue: '{{uploaded}} (+{{duplicates}} уже были на агрегаторе)',
    failedValue: '{{failed}} отклонены как неверные (в карантине, без повторов)',
    droppedValue: '{{dropped}} (исходящая очередь переполнена)',
    unscrubbable: '{{dropped}} (исходящая очередь переполнена); {{unscrubbable}} не сохранены: не удалось очистить',
    none: 'нет',
    never: 'никогда',
    uploadThrough: '{{at}} через {{route}}',
    mirrorsValue: '{{mirrors}} (пробуются по порядку после агрегатора)',
    checkInValue: '{{at}}: {{cc}} {{asn}}, сдвиг часов {{offsetMs}} мс, списки {{lists}}',
    nextUnknown: 'неизвестно (запущен ли `blockwatch probe start`?)',
    nextValue: 'приоритетный {{priority}}, полный {{full}} (+ до {{jitterS}} с случайной задержки)',
    quarantined: 'в карантине {{uid}}: {{error}}'
  },
  upload: {
    noToken: 'у этого зонда нет токена; выполните `blockwatch probe init`, чтобы зарегистрироваться',
    result: 'выгружено {{uploaded}}, уже были на сервере {{duplicates}}, отклонено {{rejected}}; ожидают {{pending}}',
    stopped: 'выгрузка остановлена: {{error}}; измерения остаются в исходящей очереди (попробуйте --retry, --upload-proxy или `blockwatch probe export`)',
    interrupted: 'прервано'
  },
  export: {
    oneFile: 'укажите один FILE для записи, например `blockwatch probe export out.jsonl.gz`',
    wroteDelivered: 'измерений записано в {{file}}: {{count}} (отмечены как доставленные)',
    wrotePending: 'измерений записано в {{file}}: {{count}} (они ждут выгрузки)',
    next: 'На агрегаторе: blockwatch aggregator import {{file}}'
  },
  register: {
    refused: 'агрегатор {{url}} отказал в регистрации: HTTP {{status}} {{body}}',
    unreachable: 'не удалось связаться с агрегатором для регистрации: {{tried}}; проверьте адрес, попробуйте --upload-proxy или --mirror, или повторите init позже'
  },
  config: {
    invalid: '{{file}}: неверная конфигурация зонда:',
    invalidNoFile: 'неверная конфигурация зонда:',
    notObject: 'файл должен содержать объект JSON',
    noFile: 'здесь нет конфигурации; сначала выполните `blockwatch probe init` (или укажите --config FILE)',
    notJson: 'это не JSON: {{error}}',
    unknownKey: '{{key}}: неизвестный ключ; допустимые ключи: {{allowed}}',
    notSection: '{{key}}: должен быть объектом с ключами {{allowed}}, получено {{got}}',
    wholeNumber: '{{key}}: должен быть целым числом от {{min}} до {{max}}, получено {{got}}',
    string: '{{key}}: должен быть строкой, получено {{got}}',
    url: '{{key}}: должен быть адресом http:// или https://, получено {{got}}',
    urlExample: '{{key}}: должен быть адресом http:// или https://, например https://blockwatch.example.org, получено {{got}}',
    urlList: '{{key}}: должен быть списком адресов http:// или https:// (другие адреса того же агрегатора), получено {{got}}',
    proxy: '{{key}}: должен быть адресом прокси с портом: socks5://127.0.0.1:9050 (Tor) или http://proxy.example:3128, получено {{got}}',
    region: '{{key}}: должен быть кодом региона ISO 3166-2, например IR-07, или null, получено {{got}}',
    resolver: '{{key}}: должен быть IP[:PORT], например 1.1.1.1 или 9.9.9.9:53, или null для системного резолвера, получено {{got}}',
    cron: '{{key}}: должен быть выражением cron, например "0 * * * *" (каждый час), получено {{got}}',
    bool: '{{key}}: должен быть true или false, получено {{got}}',
    addresses: '{{key}}: должен быть списком IP-адресов в виде строк, получено {{got}}',
    plainHttp: 'предупреждение: {{origin}} — это открытый http:// и не этот компьютер: любой на пути видит (и может заблокировать) выгрузку; используйте https:// или --upload-proxy'
  },
  resolver: {
    bad: 'резолвер должен быть IP или IP:PORT ([IPv6]:PORT), получено {{value}}',
    none: 'в /etc/resolv.conf нет nameserver; укажите --resolver IP[:PORT]'
  },
  fingerprintList: {
    refused: 'список отпечатков с агрегатора отвергнут: {{reason}}; остаётся последний исправный список',
    unreachable: 'не удалось получить список отпечатков с агрегатора ({{error}}); используется последний исправный список',
    noLineBreak: '{{file}}: не заканчивается переводом строки (обрезан?)',
    badCsv: '{{file}}, строка {{line}}: {{error}}',
    headerLacks: '{{file}}: в заголовке нет столбцов {{columns}}',
    fieldCount: '{{file}}, строка {{line}}: полей {{fields}}, а в заголовке {{expected}} (обрезан?)',
    nameEmpty: '{{file}}, строка {{line}}: name пусто',
    scope: '{{file}}, строка {{line}} ({{name}}): scope должен быть одним из: {{choices}}, получено {{value}}',
    patternType: '{{file}}, строка {{line}} ({{name}}): pattern_type должен быть одним из: {{choices}}, получено {{value}}',
    patternEmpty: '{{file}}, строка {{line}} ({{name}}): pattern пуст',
    dnsLocation: '{{file}}, строка {{line}} ({{name}}): location_found должен быть dns, получено {{value}}',
    dnsPattern: '{{file}}, строка {{line}} ({{name}}): pattern должен быть IP-адресом или DNS-именем, получено {{value}}',
    httpLocation: '{{file}}, строка {{line}} ({{name}}): location_found должен быть body или header.NAME, получено {{value}}',
    badRegexp: '{{file}}, строка {{line}} ({{name}}): pattern не является допустимым регулярным выражением',
    countries: '{{file}}, строка {{line}} ({{name}}): expected_countries должны быть двухбуквенными кодами, получено {{value}}',
    empty: '{{file}}: пуст',
    shrunk: '{{file}}: строк {{rows}}, а в последнем исправном списке было {{last}} (ожидалось не меньше {{share}}%; обрезан?)',
    versions: 'два файла разных версий (список изменился между ними); до следующей попытки остаётся последний исправный список'
  },
  log: {
    consentChanged: 'текст согласия изменился; выполните `blockwatch probe init --force`, чтобы прочитать его и снова дать согласие; до тех пор измеряется нейтральный список',
    noTargetList: 'от агрегатора ещё нет списка целей; измеряются нейтральный и встроенные списки',
    skippedRow: 'пропущена неверная строка',
    checkInFailed: 'отметка не удалась; используются последние полученные списки',
    noToken: 'нет токена зонда; выполните `blockwatch probe init`, чтобы зарегистрироваться, после этого начнётся выгрузка',
    outboxEmpty: 'исходящая очередь пуста',
    uploadFailedUnexpectedly: 'выгрузка неожиданно не удалась',
    previousRunGoing: 'предыдущий запуск этого списка ещё идёт; пропущено',
    missedRun: 'пропущен запуск по расписанию (компьютер спал или был занят); ждём следующего',
    runStarted: 'запуск начат',
    runFinished: 'запуск завершён',
    runFailed: 'запуск не удался',
    firstRunScheduled: 'первый запуск запланирован',
    notReachableTryNext: 'агрегатор недоступен по этому адресу; пробуем следующий',
    rejectedInvalid: 'агрегатор отклонил измерение как неверное; оно в карантине, без повторов',
    uploadedBatch: 'пакет выгружен',
    uploadFailedRetry: 'выгрузка не удалась; будет повтор',
    notScrubbed: 'из измерения не удалось удалить адрес зонда; оно не сохраняется и не выгружается',
    lowerPriority: 'не удалось понизить приоритет CPU',
    registered: 'зарегистрирован',
    notRegisteredYet: 'ещё не зарегистрирован; измерения ждут в исходящей очереди, пока регистрация не удастся при следующем старте',
    outboxFullDropped: 'исходящая очередь переполнена: измерение отброшено (учитывается в `probe status`)',
    uploadIncomplete: 'выгрузка не завершена; измерения остаются в исходящей очереди',
    schedulerStarted: 'планировщик запущен',
    stopping: 'останавливается',
    stopped: 'остановлен',
    fingerprintsUpdated: 'список отпечатков обновлён с агрегатора'
  },
  help: {
    probe: `blockwatch probe — измерение цензуры из этой сети

Использование: blockwatch probe <подкоманда> [параметры]

Подкоманды:
  run       измерить список целей один раз и записать измерения
  init      объяснить риски, спросить согласие и записать конфигурацию зонда
  start     запускать списки целей по расписанию и выгружать результаты
  status    сколько ожидает, выгружено, отклонено и отброшено; следующий запуск
  upload    выгрузить ожидающие измерения сейчас
  export    записать ожидающие измерения в файл, который можно вынести

Параметры подкоманды: \`blockwatch probe <подкоманда> --help\`. Каждая подкоманда
принимает --lang LANG: en, fa, ru или zh-CN (по умолчанию BLOCKWATCH_LANG, иначе локаль).

Пример:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    run: `blockwatch probe run — измерить список целей один раз и записать измерения

Использование: blockwatch probe run --targets FILE|citizenlab:CC|messaging [параметры]

  --targets SRC        файл CSV Citizen Lab; citizenlab:CC — текущий список
                       страны CC и глобальный список (по сети); или
                       "messaging" — встроенный список WhatsApp, Telegram,
                       Signal, Twitter и Facebook (по умолчанию)
  --resolver IP[:PORT] резолвер DNS (по умолчанию из /etc/resolv.conf)
  --control URL        базовый адрес агрегатора для контрольной точки
                       (например http://10.0.0.2:8080); по умолчанию контрольная
                       точка или агрегатор настроенного зонда; без неё вердикты null
  --ca FILE            дополнительные сертификаты CA (PEM) помимо системных
  --concurrency N      сколько целей измеряется одновременно (по умолчанию 8; 2 на хост)
  --output FILE.jsonl  записывать каждое измерение по готовности ("-": stdout)
  --cc CC --asn ASN    страна и номер AS сети (по умолчанию из последней
                       отметки, иначе ZZ и AS0, неизвестно)
  --region CODE        ваш регион ISO 3166-2, например IR-23
  --fingerprints SRC   отпечатки страниц блокировки OONI: папка с
                       fingerprints_dns.csv и fingerprints_http.csv, URL
                       или "none" (по умолчанию список агрегатора настроенного
                       зонда, иначе последняя исправная копия на диске; без
                       конфигурации зонда — с github.com/ooni, если есть сеть)
  --dns-resolvers LIST резолверы, с которыми также сравниваются цели dns://:
                       через запятую udp:IP[:PORT], tcp:IP[:PORT], doh:URL или
                       tcp:system (по умолчанию {{dnsResolvers}})
  --upload             также поставить измерения в исходящую очередь зонда и
                       выгрузить их (нужен \`blockwatch probe init\`)
  --no-upload          не выгружать (по умолчанию)
  --config FILE        конфигурация зонда (по умолчанию $XDG_CONFIG_HOME/blockwatch/probe.json,
                       если есть): её контрольная точка, резолвер, CA, регион и
                       список очистки используются, если параметр не задан
  --data-dir DIR       исходящая очередь и состояние зонда (по умолчанию $XDG_STATE_HOME/blockwatch)
  --lang LANG          en, fa, ru или zh-CN (по умолчанию BLOCKWATCH_LANG, иначе локаль)

Из измерений, записанных в --output, удаляются публичные адреса этого
компьютера (и те, что узнал настроенный зонд), как и в исходящей очереди.

Код выхода 0 при любых вердиктах.

Пример:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    init: `blockwatch probe init — объяснить риски, спросить согласие и записать конфигурацию зонда

Использование: blockwatch probe init [параметры]

  --aggregator URL         агрегатор (по умолчанию http://127.0.0.1:8080)
  --mirror URL             другой адрес того же агрегатора (фронт, зеркало),
                           пробуется по порядку, если первый заблокирован; можно
                           повторять; --mirror '' забывает их
  --region CODE            заявленный регион ISO 3166-2, например IR-07
  --resolver IP[:PORT]     резолвер DNS (по умолчанию системный)
  --control URL            контрольная точка (по умолчанию агрегатор)
  --ca FILE                дополнительные сертификаты CA (PEM)
  --priority-schedule CRON расписание приоритетного списка (по умолчанию "0 * * * *", каждый час)
  --full-schedule CRON     расписание полного списка (по умолчанию "30 3 * * *", каждый день)
  --jitter S               случайная задержка старта, секунды (по умолчанию 600)
  --max-memory MB          предел кучи V8 (по умолчанию 256; 0: как в node)
  --nice N                 приоритет CPU (nice) 0-19 (по умолчанию 10)
  --bandwidth KBPS         предел полосы, КиБ/с (по умолчанию 0: без предела)
  --concurrency N          сколько целей измеряется одновременно (по умолчанию 4)
  --outbox-max MB          предел исходящей очереди (по умолчанию 200)
  --upload-proxy URL       socks5://HOST:PORT (Tor: socks5://127.0.0.1:9050) или http(s)://HOST:PORT
                           для регистрации, отметки и выгрузки
  --accept-risks           установка без терминала: я прочитал текст (\`--show-consent\`) и согласен
  --decline                установка без терминала и без согласия: проверяется только малый нейтральный список
  --show-consent           напечатать текст согласия и выйти
  --lang LANG              en, fa, ru или zh-CN (по умолчанию BLOCKWATCH_LANG, иначе локаль)
  --no-register            записать конфигурацию без регистрации
  --force                  перезаписать существующую конфигурацию (id зонда сохраняется)
  --config FILE            путь конфигурации (по умолчанию $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           исходящая очередь и состояние (по умолчанию $XDG_STATE_HOME/blockwatch)

Пример:
  blockwatch probe init --aggregator https://blockwatch.example.org --region IR-07 --accept-risks
`,
    start: `blockwatch probe start — запускать списки целей по расписанию и выгружать результаты

Использование: blockwatch probe start [параметры]

  --once LIST              запустить LIST (priority или full) один раз, выгрузить и выйти
  --first-run-within S     также запустить приоритетный список в течение S секунд после старта
  --upload-proxy URL       socks5://HOST:PORT или http(s)://HOST:PORT для отметки и выгрузки, вместо конфигурации
  --log-level LEVEL        trace, debug, info (по умолчанию), warn, error
  --log-format FORMAT      pretty (одна читаемая строка на событие; по умолчанию в терминале)
                           или json (строки JSON pino; по умолчанию в канал или файл); LOG_FORMAT
  --also-measure URL       добавить URL в нейтральный список (можно повторять; npm start добавляет локальный агрегатор)
  --no-messaging-list      не измерять встроенный список мессенджеров (WhatsApp, Telegram,
                           Signal, Twitter, Facebook), который идёт после списков агрегатора,
                           когда вы дали согласие
  --config FILE            путь конфигурации (по умолчанию $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           исходящая очередь и состояние (по умолчанию $XDG_STATE_HOME/blockwatch)
  --lang LANG              en, fa, ru или zh-CN (по умолчанию BLOCKWATCH_LANG, иначе локаль)

Работает до SIGTERM или SIGINT. Журнал идёт в stdout.

Пример:
  blockwatch probe start --upload-proxy socks5://127.0.0.1:9050
`,
    status: `blockwatch probe status — сколько ожидает, выгружено, отклонено и отброшено; следующий запуск

Использование: blockwatch probe status [--json] [--config FILE] [--data-dir DIR] [--lang LANG]

Пример:
  blockwatch probe status --json
`,
    upload: `blockwatch probe upload — выгрузить ожидающие измерения сейчас

Использование: blockwatch probe upload [--retry] [--upload-proxy URL] [--config FILE] [--data-dir DIR] [--lang LANG]

  --retry              повторять (с растущей случайной паузой), пока очередь не опустеет
  --upload-proxy URL   socks5://HOST:PORT вместо конфигурации

Пример:
  blockwatch probe upload --upload-proxy socks5://127.0.0.1:9050
`,
    export: `blockwatch probe export — записать ожидающие измерения в файл, который можно вынести

Использование: blockwatch probe export FILE[.gz] [--mark-delivered] [--config FILE] [--data-dir DIR] [--lang LANG]

  --mark-delivered   считать вынесенные измерения выгруженными (только когда файл уже дошёл до агрегатора)

Затем на агрегаторе: blockwatch aggregator import FILE

Пример:
  blockwatch probe export /media/usb/measurements.jsonl.gz
`
  }
}
