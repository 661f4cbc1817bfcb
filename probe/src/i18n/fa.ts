/** Persian (right to left). Translates en.ts key for key. */
import type { Catalogue } from './en.ts'

export const fa: Catalogue = {
  consent: {
    text: `پیش از اجرای کاوشگر blockwatch، لطفاً این را بخوانید.

کاوشگر چه می‌کند
  از اتصال شما به وب‌سایت‌ها و سرویس‌های شبکه سر می‌زند (خبری، حقوق بشری،
  شبکه‌های اجتماعی، پیام‌رسان‌ها، درگاه‌های پیامک و موارد دیگر در فهرست‌های
  هدف) و ثبت می‌کند که آیا در دسترس بودند و اگر نه، چگونه از کار افتادند.
  این اندازه‌گیری‌ها را به گردآورنده‌ای (aggregator) که خودتان انتخاب
  می‌کنید می‌فرستد و آن گردآورنده آن‌ها را منتشر می‌کند.

چه چیزی آشکار می‌شود
  - اندازه‌گیری‌های منتشرشده کشور شما، شبکهٔ شما (ASN) و منطقه‌ای را که
    اعلام می‌کنید در خود دارند، اما نشانی IP شما را نه: کاوشگر آن را پیش از
    ذخیره از هر اندازه‌گیری حذف می‌کند و گردآورنده هرگز آن را ذخیره نمی‌کند.
  - هر کسی که اتصال شما را زیر نظر دارد (ارائه‌دهندهٔ اینترنت، کارفرما، دولت)
    می‌تواند ببیند که اتصال شما به سایت‌های این فهرست‌ها سر می‌زند؛ برخی از
    آن‌ها ممکن است در جایی که زندگی می‌کنید غیرقانونی یا از نظر سیاسی
    حساس باشند، و شاید بتواند تشخیص دهد که شما کاوشگر سانسور اجرا می‌کنید.
  - گردآورنده هنگام ارتباط کاوشگر با آن، نشانی IP شما را می‌بیند. با
    --upload-proxy socks5://127.0.0.1:9050 (تور) آن را از گردآورنده و از
    مسیر پنهان کنید.

خطرها
  در برخی کشورها، دسترسی به محتوای مسدودشده یا مشارکت در اندازه‌گیری سانسور
  می‌تواند پیامدهای قانونی یا پیامدهای دیگر داشته باشد. ما نمی‌توانیم این
  خطر را به جای شما بسنجیم. اگر مطمئن نیستید، رضایت ندهید: در آن صورت
  کاوشگر فقط فهرست کوچکی از سایت‌های بی‌طرف را آزمایش می‌کند.

هر زمان بخواهید می‌توانید متوقف کنید: سرویس را متوقف کنید و پیکربندی و
صندوق خروجی (outbox) را پاک کنید (نگاه کنید به docs/privacy.md و
docs/volunteers.md).
`,
    question: 'آیا با این خطرها به اجرای کاوشگر رضایت می‌دهید؟ برای رضایت «{{yes}}» را بنویسید و برای رد هر چیز دیگری: ',
    yes: 'بله',
    noTerminal: 'ترمینالی برای پرسیدن رضایت نیست: `blockwatch probe init --show-consent` را بخوانید، سپس برای رضایت --accept-risks یا برای آزمایش فقط یک فهرست بی‌طرف --decline را بدهید'
  },
  init: {
    alreadyRegistered: 'پیش‌تر با شناسهٔ کاوشگر {{probeId}} ثبت شده است؛ توکن آن نگه داشته می‌شود',
    registered: 'در {{url}} با شناسهٔ کاوشگر {{probeId}} ثبت شد',
    notRegistered: 'پیکربندی بدون توکن نوشته شد؛ `blockwatch probe start` هر وقت بتواند ثبت‌نام می‌کند.',
    wrote: '{{file}} نوشته شد (رضایت: {{consent}})؛ صندوق خروجی در {{dataDir}}',
    consentGiven: 'داده شد',
    consentDeclined: 'رد شد، فقط فهرست بی‌طرف',
    next: 'گام بعد: blockwatch probe start   (برای یک سرویس systemd نگاه کنید به docs/volunteers.md)',
    acceptAndDecline: '--accept-risks و --decline با هم تناقض دارند؛ فقط یکی را بدهید',
    configExists: '{{file}} وجود دارد؛ برای بازنویسی --force بدهید (شناسهٔ کاوشگر می‌ماند)، یا --config FILE برای فایلی دیگر'
  },
  flags: {
    unknown: 'گزینهٔ ناشناخته {{flag}}؛ گزینه‌ها را در --help ببینید',
    missingValue: '{{flag}} به یک مقدار نیاز دارد؛ --help را ببینید',
    wholeNumber: '{{flag}} باید عددی صحیح از {{min}} تا {{max}} باشد، اما {{value}} داده شد',
    language: '{{name}} باید یکی از {{choices}} باشد، اما {{value}} داده شد'
  },
  probe: {
    unknownSubcommand: 'زیرفرمان ناشناختهٔ probe: {{name}}؛ یکی از {{choices}} (نگاه کنید به `blockwatch probe --help`)'
  },
  run: {
    dnsResolversForm: '--dns-resolvers: {{item}} باید به شکل udp:IP[:PORT] یا tcp:IP[:PORT] یا doh:URL باشد',
    dnsResolversDoh: '--dns-resolvers: {{item}}: سرور DoH باید یک نشانی https:// باشد',
    dnsResolversAddress: '--dns-resolvers: {{item}}: به شکل IP[:PORT] نیست',
    targetsUnreadable: '--targets: خواندن {{file}} ممکن نیست: {{error}}',
    skipped: 'رد شد: {{row}}',
    cc: '--cc باید کد دوحرفی کشور در ISO 3166-1 باشد، مانند IR، اما {{value}} داده شد',
    asn: '--asn باید شمارهٔ AS باشد، مانند AS12880 یا 12880، اما {{value}} داده شد',
    configMissing: '--config: در {{file}} پیکربندی کاوشگری نیست؛ اول `blockwatch probe init` را اجرا کنید',
    configIgnored: 'پیکربندی کاوشگر نادیده گرفته شد: {{error}}',
    control: '--control باید نشانی پایهٔ گردآورنده باشد، مانند http://10.0.0.2:8080، اما {{value}} داده شد',
    region: '--region باید کد ISO 3166-2 باشد، مانند IR-23، اما {{value}} داده شد',
    ca: '--ca: خواندن {{file}} ممکن نیست: {{error}}',
    fingerprints: '--fingerprints: بارکردن {{source}} ممکن نیست: {{error}}',
    noFingerprints: 'اثر انگشت صفحه‌های مسدودسازی گرفته نشد (آفلاین هستید؟)؛ حکم‌ها بدون آن‌ها داده می‌شوند (--fingerprints را ببینید)',
    output: '--output: نوشتن {{file}} ممکن نیست: {{error}}',
    notWritten: '{{target}}: در خروجی نوشته نشد، {{reason}}',
    uploadNeedsConfig: '--upload به یک کاوشگر پیکربندی‌شده نیاز دارد (`blockwatch probe init` را اجرا کنید): {{error}}',
    uploadNoToken: '--upload: این کاوشگر توکن ندارد؛ برای ثبت‌نام `blockwatch probe init` را اجرا کنید',
    uploaded: 'بارگذاری‌شده {{uploaded}}، از پیش موجود {{duplicates}}، ردشده {{rejected}}',
    uploadedRest: 'بارگذاری‌شده {{uploaded}}، از پیش موجود {{duplicates}}، ردشده {{rejected}}؛ بقیه در صندوق خروجی می‌مانند ({{error}})'
  },
  progress: {
    measured: 'اندازه‌گیری‌شده {{done}}، مسدود {{blocked}}',
    verdict: 'حکم',
    count: 'تعداد',
    total: 'جمع'
  },
  start: {
    once: '--once باید priority یا full باشد، اما {{value}} داده شد',
    logLevel: '--log-level باید یکی از trace، debug، info، warn، error یا silent باشد، اما {{value}} داده شد'
  },
  status: {
    aggregator: 'گردآورنده',
    consent: 'رضایت',
    pending: 'در انتظار',
    uploaded: 'بارگذاری‌شده',
    failed: 'ناموفق',
    dropped: 'دورریخته',
    lastError: 'آخرین خطا',
    lastUpload: 'آخرین بارگذاری',
    mirrors: 'نشانی‌های دیگر',
    checkIn: 'اعلام حضور',
    nextRuns: 'اجراهای بعدی',
    registeredAs: '{{url}} (کاوشگر {{probeId}})',
    notRegistered: '{{url}} (ثبت‌نام نشده: `blockwatch probe init` را اجرا کنید)',
    consentGiven: 'داده شده',
    consentNotGiven: 'داده نشده: فقط فهرست بی‌طرف',
    pendingValue: '{{pending}} ({{priority}} اولویت‌دار، {{kib}} KiB)',
    uploadedValue: '{{uploaded}} (+{{duplicates}} که از پیش در گردآورنده بودند)',
    failedValue: '{{failed}} به‌عنوان نامعتبر رد شدند (قرنطینه، بدون تلاش دوباره)',
    droppedValue: '{{dropped}} (صندوق خروجی پر بود)',
    unscrubbable: '{{dropped}} (صندوق خروجی پر بود)؛ {{unscrubbable}} ذخیره نشدند: پاک‌سازی نشانی ممکن نبود',
    none: 'هیچ',
    never: 'هرگز',
    uploadThrough: '{{at}} از راه {{route}}',
    mirrorsValue: '{{mirrors}} (به ترتیب، پس از گردآورنده امتحان می‌شوند)',
    checkInValue: '{{at}}: {{cc}} {{asn}}، اختلاف ساعت {{offsetMs}} میلی‌ثانیه، فهرست‌ها {{lists}}',
    nextUnknown: 'نامعلوم (آیا `blockwatch probe start` در حال اجراست؟)',
    nextValue: 'اولویت‌دار {{priority}}، کامل {{full}} (+ تا {{jitterS}} ثانیه تأخیر تصادفی)',
    quarantined: 'قرنطینه {{uid}}: {{error}}'
  },
  upload: {
    noToken: 'این کاوشگر توکن ندارد؛ برای ثبت‌نام `blockwatch probe init` را اجرا کنید',
    result: 'بارگذاری‌شده {{uploaded}}، از پیش موجود {{duplicates}}، ردشده {{rejected}}؛ در انتظار {{pending}}',
    stopped: 'بارگذاری متوقف شد: {{error}}؛ اندازه‌گیری‌ها در صندوق خروجی می‌مانند (--retry یا --upload-proxy یا `blockwatch probe export` را امتحان کنید)',
    interrupted: 'قطع شد'
  },
  export: {
    oneFile: 'یک FILE برای نوشتن بدهید، مانند `blockwatch probe export out.jsonl.gz`',
    wroteDelivered: '{{count}} اندازه‌گیری در {{file}} نوشته شد (تحویل‌شده علامت خورد)',
    wrotePending: '{{count}} اندازه‌گیری در {{file}} نوشته شد (تا بارگذاری در انتظار می‌مانند)',
    next: 'روی گردآورنده: blockwatch aggregator import {{file}}'
  },
  register: {
    refused: 'گردآورنده در {{url}} ثبت‌نام را نپذیرفت: HTTP {{status}} {{body}}',
    unreachable: 'برای ثبت‌نام به گردآورنده نرسیدیم: {{tried}}؛ نشانی را بررسی کنید، یا --upload-proxy یا --mirror را به کار ببرید، یا init را بعداً دوباره اجرا کنید'
  },
  config: {
    invalid: '{{file}}: پیکربندی کاوشگر نامعتبر است:',
    invalidNoFile: 'پیکربندی کاوشگر نامعتبر است:',
    notObject: 'فایل باید یک شیء JSON باشد',
    noFile: 'اینجا پیکربندی نیست؛ اول `blockwatch probe init` را اجرا کنید (یا --config FILE بدهید)',
    notJson: 'JSON معتبر نیست: {{error}}',
    unknownKey: '{{key}}: کلید ناشناخته؛ کلیدهای مجاز: {{allowed}}',
    notSection: '{{key}}: باید شیئی با کلیدهای {{allowed}} باشد، اما {{got}} داده شد',
    wholeNumber: '{{key}}: باید عددی صحیح از {{min}} تا {{max}} باشد، اما {{got}} داده شد',
    string: '{{key}}: باید رشته باشد، اما {{got}} داده شد',
    url: '{{key}}: باید نشانی http:// یا https:// باشد، اما {{got}} داده شد',
    urlExample: '{{key}}: باید نشانی http:// یا https:// باشد، مانند https://blockwatch.example.org، اما {{got}} داده شد',
    urlList: '{{key}}: باید فهرستی از نشانی‌های http:// یا https:// باشد (نشانی‌های دیگر همان گردآورنده)، اما {{got}} داده شد',
    proxy: '{{key}}: باید نشانی پراکسی با درگاه باشد: socks5://127.0.0.1:9050 (تور) یا http://proxy.example:3128، اما {{got}} داده شد',
    region: '{{key}}: باید کد منطقهٔ ISO 3166-2 مانند IR-07 یا null باشد، اما {{got}} داده شد',
    resolver: '{{key}}: باید IP[:PORT] مانند 1.1.1.1 یا 9.9.9.9:53 باشد، یا null برای سرور DNS سیستم، اما {{got}} داده شد',
    cron: '{{key}}: باید عبارت cron باشد، مانند "0 * * * *" (هر ساعت)، اما {{got}} داده شد',
    bool: '{{key}}: باید true یا false باشد، اما {{got}} داده شد',
    addresses: '{{key}}: باید فهرستی از نشانی‌های IP به شکل رشته باشد، اما {{got}} داده شد',
    plainHttp: 'هشدار: {{origin}} بدون رمزگذاری (http://) است و روی این دستگاه نیست: هر کس سر راه باشد بارگذاری‌ها را می‌بیند (و می‌تواند مسدود کند)؛ https:// یا --upload-proxy را به کار ببرید'
  },
  resolver: {
    bad: 'سرور DNS باید IP یا IP:PORT ([IPv6]:PORT) باشد، اما {{value}} داده شد',
    none: 'در /etc/resolv.conf هیچ nameserver نیست؛ --resolver IP[:PORT] را بدهید'
  },
  fingerprintList: {
    refused: 'فهرست اثر انگشت‌های گردآورنده پذیرفته نشد: {{reason}}؛ آخرین فهرست سالم نگه داشته می‌شود',
    unreachable: 'فهرست اثر انگشت‌ها از گردآورنده گرفته نشد ({{error}})؛ آخرین فهرست سالم به کار می‌رود',
    noLineBreak: '{{file}}: با شکست خط تمام نمی‌شود (بریده شده است؟)',
    badCsv: '{{file}}، سطر {{line}}: {{error}}',
    headerLacks: '{{file}}: این ستون‌ها در سرستون نیستند: {{columns}}',
    fieldCount: '{{file}}، سطر {{line}}: {{fields}} فیلد دارد، اما سرستون {{expected}} فیلد دارد (بریده شده است؟)',
    nameEmpty: '{{file}}، سطر {{line}}: name خالی است',
    scope: '{{file}}، سطر {{line}} ({{name}}): scope باید یکی از {{choices}} باشد، اما {{value}} داده شد',
    patternType: '{{file}}، سطر {{line}} ({{name}}): pattern_type باید یکی از {{choices}} باشد، اما {{value}} داده شد',
    patternEmpty: '{{file}}، سطر {{line}} ({{name}}): pattern خالی است',
    dnsLocation: '{{file}}، سطر {{line}} ({{name}}): location_found باید dns باشد، اما {{value}} داده شد',
    dnsPattern: '{{file}}، سطر {{line}} ({{name}}): pattern باید نشانی IP یا نام DNS باشد، اما {{value}} داده شد',
    httpLocation: '{{file}}، سطر {{line}} ({{name}}): location_found باید body یا header.NAME باشد، اما {{value}} داده شد',
    badRegexp: '{{file}}، سطر {{line}} ({{name}}): pattern یک عبارت باقاعدهٔ درست نیست',
    countries: '{{file}}، سطر {{line}} ({{name}}): expected_countries باید کدهای دوحرفی باشد، اما {{value}} داده شد',
    empty: '{{file}}: خالی است',
    shrunk: '{{file}}: {{rows}} سطر دارد، اما آخرین فهرست سالم {{last}} سطر داشت (دست‌کم {{share}}٪ انتظار می‌رفت؛ بریده شده است؟)',
    versions: 'دو فایل از دو نسخهٔ متفاوت‌اند (فهرست در این میان تغییر کرده است)؛ تا تلاش بعدی آخرین فهرست سالم نگه داشته می‌شود'
  },
  log: {
    consentChanged: 'متن رضایت تغییر کرده است؛ برای خواندن و رضایت دوباره `blockwatch probe init --force` را اجرا کنید؛ تا آن وقت فهرست بی‌طرف سنجیده می‌شود',
    noTargetList: 'هنوز فهرست هدفی از گردآورنده نرسیده است؛ فهرست بی‌طرف و فهرست‌های درونی سنجیده می‌شوند',
    skippedRow: 'یک سطر نادرست رد شد',
    checkInFailed: 'اعلام حضور ناموفق بود؛ اجرا با آخرین فهرست‌های دریافتی',
    noToken: 'کاوشگر توکن ندارد؛ برای ثبت‌نام `blockwatch probe init` را اجرا کنید، پس از آن بارگذاری آغاز می‌شود',
    outboxEmpty: 'صندوق خروجی خالی شد',
    uploadFailedUnexpectedly: 'بارگذاری به‌طور غیرمنتظره ناموفق بود',
    previousRunGoing: 'اجرای قبلی این فهرست هنوز ادامه دارد؛ رد شد',
    missedRun: 'یک اجرای زمان‌بندی‌شده از دست رفت (دستگاه در خواب یا مشغول بود)؛ در انتظار اجرای بعدی',
    runStarted: 'اجرا آغاز شد',
    runFinished: 'اجرا تمام شد',
    runFailed: 'اجرا ناموفق بود',
    firstRunScheduled: 'نخستین اجرا زمان‌بندی شد',
    notReachableTryNext: 'گردآورنده از این نشانی در دسترس نیست؛ نشانی بعدی امتحان می‌شود',
    rejectedInvalid: 'گردآورنده یک اندازه‌گیری را نامعتبر دانست و رد کرد؛ قرنطینه شد و دوباره فرستاده نمی‌شود',
    uploadedBatch: 'یک دسته بارگذاری شد',
    uploadFailedRetry: 'بارگذاری ناموفق بود؛ دوباره تلاش می‌شود',
    notScrubbed: 'نشانی کاوشگر از یک اندازه‌گیری پاک نشد؛ ذخیره و بارگذاری نمی‌شود',
    lowerPriority: 'پایین آوردن اولویت CPU ممکن نشد',
    registered: 'ثبت‌نام شد',
    notRegisteredYet: 'هنوز ثبت‌نام نشده است؛ اندازه‌گیری‌ها در صندوق خروجی می‌مانند تا ثبت‌نام در شروع بعدی موفق شود',
    outboxFullDropped: 'صندوق خروجی پر است: یک اندازه‌گیری دور ریخته شد (در `probe status` شمرده می‌شود)',
    uploadIncomplete: 'بارگذاری کامل نشد؛ اندازه‌گیری‌ها در صندوق خروجی می‌مانند',
    schedulerStarted: 'زمان‌بند آغاز شد',
    stopping: 'در حال توقف',
    stopped: 'متوقف شد',
    fingerprintsUpdated: 'فهرست اثر انگشت‌ها از گردآورنده به‌روز شد'
  },
  help: {
    probe: `blockwatch probe — سنجش سانسور از همین شبکه

کاربرد: blockwatch probe <زیرفرمان> [گزینه‌ها]

زیرفرمان‌ها:
  run       یک بار یک فهرست هدف را می‌سنجد و اندازه‌گیری‌ها را می‌نویسد
  init      خطرها را توضیح می‌دهد، رضایت می‌پرسد و پیکربندی کاوشگر را می‌نویسد
  start     فهرست‌های هدف را طبق زمان‌بندی اجرا و نتیجه‌ها را بارگذاری می‌کند
  status    شمار در انتظار، بارگذاری‌شده، ناموفق و دورریخته؛ اجرای بعدی
  upload    اندازه‌گیری‌های در انتظار را همین حالا بارگذاری می‌کند
  export    اندازه‌گیری‌های در انتظار را در فایلی می‌نویسد که بتوان بیرون برد

گزینه‌های هر زیرفرمان: \`blockwatch probe <زیرفرمان> --help\`. همهٔ زیرفرمان‌ها
--lang LANG را می‌پذیرند: en، fa، ru یا zh-CN (پیش‌فرض: BLOCKWATCH_LANG، وگرنه زبان سیستم).

نمونه:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    run: `blockwatch probe run — یک بار یک فهرست هدف را می‌سنجد و اندازه‌گیری‌ها را می‌نویسد

کاربرد: blockwatch probe run --targets FILE|citizenlab:CC|messaging [گزینه‌ها]

  --targets SRC        یک فایل CSV از Citizen Lab؛ citizenlab:CC برای فهرست کنونی
                       کشور CC به‌اضافهٔ فهرست جهانی (برخط)؛ یا "messaging" برای
                       فهرست درونی WhatsApp، Telegram، Signal، Twitter و Facebook (پیش‌فرض)
  --resolver IP[:PORT] سرور DNS (پیش‌فرض: /etc/resolv.conf)
  --control URL        نشانی پایهٔ گردآورنده، برای نقطهٔ کنترل
                       (مانند http://10.0.0.2:8080)؛ پیش‌فرض: نقطهٔ کنترل یا
                       گردآورندهٔ کاوشگر پیکربندی‌شده؛ بدون آن حکم‌ها null هستند
  --ca FILE            گواهی‌های CA اضافه (PEM) در کنار گواهی‌های سیستم
  --concurrency N      شمار هدف‌هایی که هم‌زمان سنجیده می‌شوند (پیش‌فرض 8؛ 2 برای هر میزبان)
  --output FILE.jsonl  هر اندازه‌گیری را به محض پایان می‌نویسد ("-": stdout)
  --cc CC --asn ASN    کشور و شمارهٔ AS شبکه (پیش‌فرض: از آخرین اعلام حضور،
                       وگرنه ZZ و AS0، یعنی نامعلوم)
  --region CODE        منطقهٔ شما در ISO 3166-2، مانند IR-23
  --fingerprints SRC   اثر انگشت صفحه‌های مسدودسازی OONI: پوشه‌ای با
                       fingerprints_dns.csv و fingerprints_http.csv، یک URL،
                       یا "none" (پیش‌فرض: فهرست گردآورندهٔ کاوشگر پیکربندی‌شده،
                       وگرنه آخرین نسخهٔ سالم روی دیسک؛ بدون پیکربندی کاوشگر،
                       در صورت برخط بودن از github.com/ooni)
  --dns-resolvers LIST سرورهایی که هدف‌های dns:// با آن‌ها هم مقایسه می‌شوند:
                       udp:IP[:PORT]، tcp:IP[:PORT]، doh:URL یا tcp:system، جداشده با ویرگول
                       (پیش‌فرض: {{dnsResolvers}})
  --upload             اندازه‌گیری‌ها را در صندوق خروجی این کاوشگر هم می‌گذارد و
                       بارگذاری می‌کند (به \`blockwatch probe init\` نیاز دارد)
  --no-upload          بارگذاری نکن (پیش‌فرض)
  --config FILE        پیکربندی کاوشگر (پیش‌فرض $XDG_CONFIG_HOME/blockwatch/probe.json،
                       اگر باشد): نقطهٔ کنترل، سرور DNS، CA، منطقه و فهرست پاک‌سازی آن
                       به کار می‌روند، مگر گزینه‌ای چیز دیگری بگوید
  --data-dir DIR       صندوق خروجی و وضعیت کاوشگر (پیش‌فرض $XDG_STATE_HOME/blockwatch)
  --lang LANG          en، fa، ru یا zh-CN (پیش‌فرض: BLOCKWATCH_LANG، وگرنه زبان سیستم)

نشانی‌های عمومی این دستگاه (و آن‌هایی که کاوشگر پیکربندی‌شده آموخته) از
اندازه‌گیری‌هایی که در --output نوشته می‌شوند پاک می‌شوند، مانند صندوق خروجی.

کد خروج، هر حکمی که باشد، 0 است.

نمونه:
  blockwatch probe run --targets ../shared/data/test-lists/ir.csv --control http://127.0.0.1:8080 --output ir.jsonl
`,
    init: `blockwatch probe init — خطرها را توضیح می‌دهد، رضایت می‌پرسد و پیکربندی کاوشگر را می‌نویسد

کاربرد: blockwatch probe init [گزینه‌ها]

  --aggregator URL         گردآورنده (پیش‌فرض http://127.0.0.1:8080)
  --mirror URL             نشانی دیگری از همان گردآورنده (یک جلوخان، یک آینه)، که
                           وقتی اولی مسدود است به ترتیب امتحان می‌شود؛ تکرارپذیر؛
                           --mirror '' همه را فراموش می‌کند
  --region CODE            منطقهٔ اعلام‌شده در ISO 3166-2، مانند IR-07
  --resolver IP[:PORT]     سرور DNS (پیش‌فرض: سرور سیستم)
  --control URL            نقطهٔ کنترل (پیش‌فرض: گردآورنده)
  --ca FILE                گواهی‌های CA اضافه (PEM)
  --priority-schedule CRON زمان‌بندی فهرست اولویت‌دار (پیش‌فرض "0 * * * *"، هر ساعت)
  --full-schedule CRON     زمان‌بندی فهرست کامل (پیش‌فرض "30 3 * * *"، هر روز)
  --jitter S               تأخیر تصادفی در شروع، به ثانیه (پیش‌فرض 600)
  --max-memory MB          سقف حافظهٔ V8 (پیش‌فرض 256؛ 0: پیش‌فرض node)
  --nice N                 اولویت CPU از 0 تا 19 (پیش‌فرض 10)
  --bandwidth KBPS         سقف پهنای باند، KiB/s (پیش‌فرض 0: بی‌سقف)
  --concurrency N          شمار هدف‌هایی که هم‌زمان سنجیده می‌شوند (پیش‌فرض 4)
  --outbox-max MB          سقف صندوق خروجی (پیش‌فرض 200)
  --upload-proxy URL       socks5://HOST:PORT (تور: socks5://127.0.0.1:9050) یا http(s)://HOST:PORT
                           برای ثبت‌نام، اعلام حضور و بارگذاری
  --accept-risks           نصب بدون ترمینال: متن را خوانده‌ام (\`--show-consent\`) و رضایت می‌دهم
  --decline                نصب بدون ترمینال و بدون رضایت: فقط یک فهرست کوچک بی‌طرف آزموده می‌شود
  --show-consent           متن رضایت را چاپ می‌کند و بیرون می‌رود
  --lang LANG              en، fa، ru یا zh-CN (پیش‌فرض: BLOCKWATCH_LANG، وگرنه زبان سیستم)
  --no-register            پیکربندی را بدون ثبت‌نام می‌نویسد
  --force                  پیکربندی موجود را بازنویسی می‌کند (شناسهٔ کاوشگر می‌ماند)
  --config FILE            مسیر پیکربندی (پیش‌فرض $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           صندوق خروجی و وضعیت (پیش‌فرض $XDG_STATE_HOME/blockwatch)

نمونه:
  blockwatch probe init --aggregator https://blockwatch.example.org --region IR-07 --accept-risks
`,
    start: `blockwatch probe start — فهرست‌های هدف را طبق زمان‌بندی اجرا و نتیجه‌ها را بارگذاری می‌کند

کاربرد: blockwatch probe start [گزینه‌ها]

  --once LIST              LIST (priority یا full) را یک بار اجرا، بارگذاری و تمام می‌کند
  --first-run-within S     فهرست اولویت‌دار را یک بار هم در S ثانیهٔ اول اجرا می‌کند
  --upload-proxy URL       socks5://HOST:PORT یا http(s)://HOST:PORT برای اعلام حضور و بارگذاری، به جای پیکربندی
  --log-level LEVEL        trace، debug، info (پیش‌فرض)، warn، error
  --log-format FORMAT      pretty (برای هر رویداد یک خط خوانا؛ پیش‌فرض در ترمینال)
                           یا json (خط‌های JSON از pino؛ پیش‌فرض در لوله یا فایل)؛ LOG_FORMAT
  --also-measure URL       URL را به فهرست بی‌طرف می‌افزاید (تکرارپذیر؛ npm start گردآورندهٔ محلی را می‌افزاید)
  --no-messaging-list      فهرست درونی پیام‌رسان‌ها (WhatsApp، Telegram، Signal، Twitter،
                           Facebook) را نمی‌سنجد؛ این فهرست پس از رضایت شما، بعد از
                           فهرست‌های گردآورنده اجرا می‌شود
  --config FILE            مسیر پیکربندی (پیش‌فرض $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           صندوق خروجی و وضعیت (پیش‌فرض $XDG_STATE_HOME/blockwatch)
  --lang LANG              en، fa، ru یا zh-CN (پیش‌فرض: BLOCKWATCH_LANG، وگرنه زبان سیستم)

تا SIGTERM یا SIGINT اجرا می‌شود. گزارش‌ها (log) به stdout می‌روند.

نمونه:
  blockwatch probe start --upload-proxy socks5://127.0.0.1:9050
`,
    status: `blockwatch probe status — شمار در انتظار، بارگذاری‌شده، ناموفق و دورریخته؛ اجرای بعدی

کاربرد: blockwatch probe status [--json] [--config FILE] [--data-dir DIR] [--lang LANG]

نمونه:
  blockwatch probe status --json
`,
    upload: `blockwatch probe upload — اندازه‌گیری‌های در انتظار را همین حالا بارگذاری می‌کند

کاربرد: blockwatch probe upload [--retry] [--upload-proxy URL] [--config FILE] [--data-dir DIR] [--lang LANG]

  --retry              تا خالی شدن صندوق خروجی دوباره تلاش می‌کند (با فاصلهٔ فزاینده و تصادفی)
  --upload-proxy URL   socks5://HOST:PORT، به جای پیکربندی

نمونه:
  blockwatch probe upload --upload-proxy socks5://127.0.0.1:9050
`,
    export: `blockwatch probe export — اندازه‌گیری‌های در انتظار را در فایلی می‌نویسد که بتوان بیرون برد

کاربرد: blockwatch probe export FILE[.gz] [--mark-delivered] [--config FILE] [--data-dir DIR] [--lang LANG]

  --mark-delivered   اندازه‌گیری‌های بیرون‌برده را بارگذاری‌شده بشمار (فقط وقتی فایل به گردآورنده رسیده است)

سپس روی گردآورنده: blockwatch aggregator import FILE

نمونه:
  blockwatch probe export /media/usb/measurements.jsonl.gz
`
  }
}
