/**
 * The probe's English messages: the source every other catalogue
 * translates, key for key ({@link Catalogue}). `{{name}}` marks a value put
 * in at run time; keep it, untranslated, in every language.
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
    next: 'Next: blockwatch probe start   (see docs/volunteers.md for a systemd unit)'
  }
}

/** The shape every catalogue has: the same keys as English, each a string. */
export type Catalogue = { [S in keyof typeof en]: { [K in keyof typeof en[S]]: string } }
