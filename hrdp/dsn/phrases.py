"""What diagnostic texts say, per bounce reason (Sisimai's vocabulary).

One compiled pattern per reason, matched against the lower-cased diagnostic of one
recipient (at most ``reasons.DIAGNOSTIC_CAP`` characters, whitespace collapsed). The
phrases are the wording of real MTAs and providers, grouped as Sisimai groups them in its
Reason classes; "a ... b" pairs are written ``a.{0,200}?b`` (bounded: linear on any input).
The order in which reasons are tried lives in ``reasons.py``, not here.
"""

from __future__ import annotations

import re

from hrdp.dsn.decoding import factor, top_level


def _any(*phrases: str) -> re.Pattern[str]:
    """One pattern for phrases written as regular expressions (already lower-case).

    Alternatives that open alike are grouped (``decoding.factor``): Python's engine skips a
    branch whose first character differs at the cost of one comparison, so a text
    position costs a test per distinct opening instead of one per phrase."""
    alternatives = [alt for phrase in phrases for alt in top_level(phrase)]
    return re.compile(factor(alternatives, 3), re.DOTALL)


GAP = r".{0,200}?"  # "a ... b": b follows a within a sentence or two

PHRASES: dict[str, re.Pattern[str]] = {
    # The recipient's local part does not exist (RFC 3463 X.1.1).
    "userunknown": _any(
        r"#5\.1\.1 bad address|550 address invalid|5\.1\.0 address rejected",
        r"address (?:does not exist|not present in directory|unknown)|can't accept user",
        r"does not exist\.|destination addresses were unknown",
        r"destination server rejected recipients",
        r"email address (?:does not exist|could not be found)",
        r"invalid (?:address|mailbox|recipient)|is not a (?:known user|valid mailbox)",
        r"is not an active address at this host|mailbox (?:does not exist|invalid|is inactive)",
        r"mailbox (?:is unavailable|not present|not found|unavaiable)",
        r"nessun utente simile|no account by that name|no existe (?:dicha persona|ese usuario)",
        r"no mail ?box (?:available for this user|by that name|found)|no such (?:address|mailbox)",
        r"no such (?:person|recipient|user)|account unavailable|no valid recipients, bye",
        r"not a valid (?:recipient|user)|not a local address|not email addresses",
        r"recipient address rejected(?:\. \(in reply to rcpt to command\)|: access denied)",
        r"recipient address rejected: (?:invalid[- ](?:user|recipient)|unknown user|userunknown)",
        r"recipient (?:does not exist|is not accepted|is not local|not exist|not found|not ok)",
        r"recipient refuses to accept your mail|recipient unknown",
        r"requested action not taken: mailbox unavailable|resolver\.adr\.recip(?:ient )?notfound",
        r"sorry, (?:user unknown|badrcptto|no mailbox here by that name)",
        r"your envelope recipient (?:has been denied|is in my badrcptto list)",
        r"that domain or user isn't in my list of allowed rcpthosts",
        r"the email account that you tried to reach does not exist",
        r"the following recipients was undeliverable|the user's email name is not found",
        r"wasn.t found at the destination domain|recipient name is not recognized",
        r"not listed in (?:domino directory|public name & address book)",
        r"there is no one at this address|this email address is wrong or no longer valid",
        r"this recipient is (?:in my badrecipientto list|not in my validrcptto list)",
        r"unknown (?:mailbox|recipient|user)|user (?:does not exist|missing home directory)",
        r"user (?:not active|not exist|not found|not known|unknown)|utilisateur inconnu",
        r"invalid or unknown virtual user|adresse nicht gefunden wurde",
        r"<[^>]{1,254}> not found|<[^>]{1,254}>\.\.\. blocked by ",
        rf"account {GAP}does not exist at",
        rf"destinataire invalide\. invalid recipient\.{GAP}41[68]|\bbad{GAP}recipient",
        rf"mailbox {GAP}(?:does not exist|unavailable or access denied)",
        rf"\bno {GAP} in name directory",
        rf"non-?existent user|rcpt {GAP}does not exist",
        rf"rcpt \({GAP}t exist |recipient {GAP}was not found",
        rf"user unknown in {GAP}table",
        rf"this user doesn't have a {GAP} account|unknown e-?mail address",
        rf"unknown local-?part|user {GAP}(?:was not found|does not exist)|user \({GAP}\) unknown",
    ),
    # The recipient's mailbox is over quota (X.2.2).
    "mailboxfull": _any(
        r"insufficient disk space|exceeding receiving limits|boite du destinataire pleine",
        r"exceeded storage allocation|full mailbox|mailbox (?:exceeds allowed size|size limit)",
        r"would exceed maximum allowed storage|mailfolder is full|no space left on device",
        r"not sufficient disk space|quota violation|too much mail data|exceeded quota",
        r"too many messages on the server|space has been used up",
        rf"account is {GAP}quota|disk{GAP}quota|enough {GAP}space|mailbox {GAP}exceeded{GAP}limit",
        rf"mailbox {GAP}full|mailbox {GAP}quota|maildir {GAP}quota|over {GAP}quota|over ?quota",
        rf"quota {GAP}exceeded|mailbox is full",
    ),
    # A per-mailbox message length limit (X.2.3).
    "exceedlimit": _any(r"message header size exceeds limit|message too large"),
    # The message is larger than the system accepts (X.3.4).
    "mesgtoobig": _any(
        r"message (?:size|length) exceeds|exceeds? (?:the )?(?:maximum )?(?:message )?size",
        r"message is too (?:big|large)|mail size limit|message too big|size limit exceeded",
        r"maximum message size|message size (?:limit|too)|too big for system",
        r"line limit exceeded|line too long",
    ),
    "suspend": _any(
        r" is currently suspended| temporary locked|archived recipient|destinataire archivee",
        r"account that you tried to reach is (?:disabled|inactive)|has been suspended",
        r"inactive account|invalid/inactive user|is a deactivated mailbox|user is terminated",
        r"mailbox (?:currently suspended|disabled|is frozen|unavailable or access denied)",
        r"temporarily inactive|recipient suspend the service|has been disabled or discontinued",
        r"has been temporarily suspended|this address no longer accepts mail",
        r"this mailbox is disabled|user or domain is disabled|user suspended|account is locked",
    ),
    "hasmoved": _any(r" has been replaced by "),
    "norelaying": _any(
        r"as a relay|email address is not verified\.|insecure mail relay|not a gateway",
        r"not permitted to relay|requires authentication when attempting to send to a non-local",
        r"no relaying|not allowed to relay|not an open relay|not local host",
        r"relay(?:ing)? (?:access )?(?:denied|not permitted)|relaying mail to ",
        r"specified domain is not allowed|not in my list of allowed rcpthost",
        r"not configured to relay mail|unable to relay |we don't handle mail for",
    ),
    "authfailure": _any(
        r"//spf\.pobox\.com|bad spf records|dmarc policy|required authentication level",
        r"inspect your spf settings|sender policy framework (?:\(spf\) fail|violation)",
        r"spf \(sender policy framework\) domain authentication fail|spf check: fail",
        r"5322\.from address doesn't meet the authentication requirements",
        r"unauthenticated email from |does not have authentication information or fails to pass",
        rf" is not allowed to send mail\.{GAP}_401|not allowed to send from <{GAP}spf record",
    ),
    "filtered": _any(
        r"account is protected by|bounced address|has restricted sms e-mail",
        r"is not accepting any mail|message filtered|message rejected due to user rules",
        r"not found recipient account|refuse to receive mail|only accepting mail from specific",
        r"refused due to recipient preferences|user not found|user refuses to receive",
        r"user reject|you have been blocked by the recipient",
    ),
    "requireptr": _any(
        r"ip name lookup failed|must have a ptr record|bad dns ptr resource record",
        r"cannot find your hostname|cannot resolve your address\.|fix reverse dns for ",
        r"missing ptr records|no ptr record found\.|custom reverse dns name",
        r"ptr record setup|reverse dns (?:failed|required)|reverse lookup rejected",
        r"does not have a ptr record|forward dns entry does not point to the sending ip",
        r"with no reverse dns|unresolvable relay host name|generic dns ptr-records",
        rf"domain {GAP}mismatches client ip|dns lookup failure: {GAP}try again later",
        rf"reverse dns lookup for host {GAP}failed|invalid rdns record|unverifyable sending ips",
    ),
    "notcompliantrfc": _any(
        r"duplicate header|not rfc 5322 compliant|p=rfcmessagenoncompliant",
        rf" multiple {GAP} header",
    ),
    "badreputation": _any(
        r"poor email reputation|due to ip reputation|reputation problems|very low reputation",
        r"bad reputation|sender reputation|poor reputation|low reputation",
    ),
    "contenterror": _any(
        r"duplicate header|header size exceeds maximum|8-bit data in message header",
        r"recipient list, exceeds policy limit|mime complexity exceeds",
        r"too many received: headers|invalid mime headers|improperly-formatted binary",
        r"unnecessary base64 encoding",
    ),
    "rejected": _any(
        r"access denied \((?:in reply to mail from command|sender blacklisted)\)",
        r"address rejected|administrative prohibition|batv (?:failed|validation)",
        r"backscatter protection|list of senders to accept mail from|bogus mail from",
        r"purported responsible address|without a valid sender domain|denied \[bouncedeny\]",
        r"valid-address-filter|delivery not authorized, message refused|does not exist e2110",
        r"domain of sender address |senderfilterconfig|emetteur invalide",
        r"empty envelope senders|envelope blocked - |no third-party dsns",
        r"from: domain is invalid|fully qualified email address required|invalid domain, see <url:",
        r"invalid sender|not a registered gateway user|mail from not owned by user",
        r"email address is not verified|mx records for |null sender is not allowed",
        r"recipient addresses rejected : access denied|batv: no tag|returned mail not accepted",
        r"recursive cname records|rule imposed mailbox access for",
        r"from a different address or alias|sender address has been blacklisted",
        r"sender email address rejected|sender is (?:in my black list|spammer)",
        r"sender not pre-approved|sender rejected|sender domain is empty",
        r"sender verify failed|sender was rejected|spam reporting address",
        r"empty email address|rejected by batv|does not accept mail from",
        r"unsigned dsn for|unroutable sender address|not allowed to post to this mailing list",
        r"to/from an address that has been blacklisted|submit messages to this e-mail system",
        r"your email address has been blacklisted",
    ),
    "hostunknown": _any(
        r"domain (?:does not exist|is not reachable|must exist)|host or domain name not found",
        r"host unknown|host unreachable|mail domain mentioned in email address is unknown",
        r"name or service not known|no such domain|unknown domain name",
        r"the account or domain may not exist|unknown host|unrout(?:e)?able address",
        rf"553 {GAP} does not exist",
        rf"dns lookup failure: host {GAP}not found",
    ),
    "spamdetected": _any(
        r" - spam|help_spam_16\.htm|554 5\.7\.0 reject, id=|appears to be unsolicited",
        r"blacklisted url in message|block(?:ed)? for spam|no spam please|blocked by spamassassin",
        r"att\.net/blocks|detected as spam|unsolicited bulk e-mail|content filter rejection",
        r"identified this email as a bulk email|denied due to spam list|probability of spam",
        r"classified as spam|drbl\.imedia\.ru|detected your message as spam",
        r"mail content denied|may consider spam|considered as spam|contains spam or virus",
        r"message content rejected|message filtered|message looks like spam",
        r"seems to be a spam|spamprofiler|rejected as spam|unacceptable content",
        r"suspected spam content|message rejected for policy reasons|possible spam/virus",
        r"thinks this email is spam|our system has detected that this message is ",
        r"probable spam|reject bulk\.advertising|spamassassin score |rejected - bulk email",
        r"rejecting banned content|rejecting mail content|spam-like characteristics",
        r"sender domain listed at |due to spam filter|spam (?:blocked|check|content matched)",
        r"spam (?:detected|email|message rejected|not accepted|refused|rejection|score )",
        r"spambouncer identified spam|spamming not allowed|too many spam complaints",
        r"too much spam\.|rejected by spam filtering|classification as bulk mail",
        r"looked like spam|appears to be spam|identified as spam|scored as spam",
        r"recurrent pattern detection|spam message not queued|we dont accept spam",
        r"similar to spam we have received|uribl policy|had spam-like |considered spam",
        r"probably spam|message has been temporarily blocked by our filter",
        r"rejected because it appears to be spam|triggered a spam block|spam contents",
        r"failed several antispam checks",
        rf"greylisted{GAP} please try again in|mail score \({GAP} over |mail rejected\. {GAP}506",
        rf"percent probability of being spam|rejected by {GAP} \(spam\)",
        rf"rejected due to spam {GAP}(?:classification|content)",
        rf"rule imposed as {GAP} is blacklisted",
        rf"spam {GAP} exceeded|this message scored {GAP} spam points",
    ),
    "speeding": _any(
        r"rate limit(?:ed)? (?:exceeded|reached)|exceeded the rate limit|sending too fast",
        r"receiving mail at a rate that prevents additional messages|too many messages (?:in|per)",
    ),
    "toomanyconn": _any(
        r"maximum connection limit|connection rate limit exceeded|per-domain connection limit",
        r"max emails per hour|throttling failure|too many (?:concurrent smtp )?connections",
        r"too many errors from your ip|too many recipients|too many smtp sessions",
        r"trop de connexions|made numerous attempts to deliver",
    ),
    "blocked": _any(
        r" said: 550 blocked|spamcop\.net/bl\.|bad sender ip address|banned sending ip",
        r"blacklisted by|blocked using |blocked - see http|dnsbl:attrbl|abus detecte gu_eib_0[24]",
        r"client host rejected: (?:may not be mail exchanger|was not authenticated)",
        r"confirm this mail server|connection (?:dropped|refused by|reset by peer)",
        r"connection was dropped by remote host|on spamhaus xbl|currently sending spam see: ",
        r"domain does not exist:|dynamic/zombied/spam ips blocked|no valid recipients from ",
        r"esmtp not accepting connections|extreme bad ip profile|go away|helo command rejected:",
        r"host network not allowed|hosts with dynamic ip|invalid ip for sending mail",
        r"is in a black list|is not allowed to send mail from",
        r"mailfrom domain is listed in spamhaus",
        r"no access from mail server|no matches to nameserver query",
        r"not currently accepting mail from your ip|network is on our block list",
        r"use the smtp server of your isp|refused - see http|rejected - multi-blacklist",
        r"has not passed validation|rejecting open proxy|sender ip address rejected",
        r"forbidden by your ip |service not available, closing transmission channel",
        r"smtp error from remote mail server after initial connection:",
        r"that domain isn't in my list of allowed rcpthosts|looks suspiciously like spammer",
        r"unexpected volume or user complaints|too many spams from your ip",
        r"too many unwanted messages have been sent|was blocked by |mail from dynamic ips",
        r"not allowed to connect|you are sending spam|ip address is listed in the rbl",
        r"network is temporary blacklisted|your server requires confirmation",
        rf"\({GAP}@{GAP}:blocked\)|access from ip address {GAP} blocked",
        rf"client host {GAP} blocked using",
        rf"because the ip is in spamhaus|_is_blocked|blocked by {GAP}(?:barracuda|spamhaus)",
        rf"host {GAP} refused to talk to me: {GAP} blocked",
        rf"is blocked by earthlink|is in an {GAP}rbl on ",
        rf"mail server at {GAP} is blocked|mail from {GAP} refused|rejected based on blacklist",
        r"deferred due to user complaints|listed as abusive|is blocked by rbl",
        r"but my name was rejected",
        rf"the (?:domain|email|ip){GAP} is blacklisted",
        rf"service refused, please try later\. {GAP}(?:103|510)",
        rf"your access ip{GAP} has been rejected|is listed at {GAP}\.abuseat\.org",
    ),
    "virusdetected": _any(
        r"virus (?:detected|found|infected)|infected with|contains? (?:a )?virus",
        r"message was infected|malware detected|virus scanner",
    ),
    "policyviolation": _any(
        r"illegal attachment|not accepting mail with |non-member to a members-only list",
        r"closed mailing list|denied by policy|not accepted for policy reasons",
        r"rejected due to security policies|header are not accepted|header error",
        r"local policy violation|due to organizational settings|message given low priority",
        r"rejected due to local policy",
        r"messages with multiple addresses|rejected for policy reasons",
        r"protocol violation|not subscribed to this group|rejected by organization policy",
        r"content presents a potential|containing images or other attachments",
        r"you're using a mass mailer|without solving a captcha",
    ),
    "systemerror": _any(
        r"aliasing/forwarding loop broken|can't create user output file|could not load drd",
        r"internal error reading data|internal server error: operation now in progress",
        r"interrupted system call|encountered an error while being processed",
        r"would create a mail loop|local configuration error|local error in processing",
        r"loop was found in the mail exchanger|loops back to myself",
        r"mail system configuration error|queue file write error|there is no mdb",
        r"remote server is misconfigured|server configuration error",
        r"service currently unavailable|system config error|temporary local problem",
        r"timeout waiting for input|transaction failed ",
        rf"unable to connect {GAP}daemon",
    ),
    "networkerror": _any(
        r"could not connect and send the mail|dns records for the destination computer",
        r"hop count exceeded|host is unreachable|host name lookup failure",
        r"host not found, try again|mail forwarding loop|malformed (?:or unexpected )?name server",
        r"forwarding loop count exceeded|message looping|in a routing loop|no route to host",
        r"too many hops|unable to resolve route |unrouteable mail domain",
        r"responded with code (?:nxdomain|servfail)|had no relevant answers",
        r"dns query failed|expired, connection refused|network error on destination",
    ),
    "systemfull": _any(r"mail system full|exceeded storage allocation"),
    "notaccept": _any(
        r"does not accept mail \(nullmx\)|host/domain does not accept mail",
        r"host does not accept mail|mail receiving disabled|name server: \.: host not found",
        r"null mx|indicated no smtp service",
        r"no mx record found for domain=|no route for current request",
        r"smtp protocol returned a permanent error",
        r"couldn.t find a mail exchanger|no mx found for domain",
    ),
    "expired": _any(
        r"connection timed out|could not find a gateway for|delivery attempts will continue",
        r"delivery (?:time )?expired|failed to deliver to domain |giving up on",
        r"failing for a long time|has been delayed|not been collected after",
        r"message expired|message timed out|retry time not reached",
        r"server did not respond|in the queue too long|after multiple retries",
        r"not reachable within the allowed queue period|could not be delivered for more than",
        rf"could not be delivered for{GAP} days|cannot send message for|retry timeout exceeded",
        r"(?:message|mail) could not be delivered within|queue lifetime|gave up",
        r"could not deliver for the last|envelope expired",
    ),
    "failedstarttls": _any(
        r"starttls|tls (?:is )?required|requires? (?:a )?secure connection|encryption required",
    ),
    "securityerror": _any(
        r"account not subscribed to ses|authentication (?:credentials invalid|failure|required)",
        r"authentication turned on in your email client|executable files are not allowed",
        r"insecure mail relay|recipient address rejected: access denied",
        r"you don't authenticate or the domain isn't in my list",
        r"unauthenticated senders not allowed|verification failure",
        r"not authorized to send mail, authentication is required",
        rf"authentication failed; server {GAP} said: |authentification (?:invalide|requise)",
        rf"domain {GAP} is a dead domain|not authorized to perform ses:sendrawemail",
    ),
    "suppressed": _any(r"suppression list|suppressed"),
    "mailererror": _any(
        r" \|\| exit |procmail: |bin/procmail|bin/maildrop|command failed: ",
        r"command died with status |command output:|mailer error|pipe to \|/|x-unix; ",
    ),
    "syntaxerror": _any(r"syntax error|command unrecognized|unrecognized command"),
}


# Phrases that rule a reason out although one of its phrases is there too.
EXCEPT: dict[str, re.Pattern[str]] = {
    # A limit on connections is toomanyconn, not a sending rate (speeding).
    "speeding": _any(r"connection rate limit"),
    "rejected": _any(r"5\.1\.0 address rejected|recipient address rejected|ip address rejected"),
}


def says(reason: str, diagnostic: str) -> bool:
    """Whether the (lower-cased) diagnostic holds one of ``reason``'s phrases."""
    pattern = PHRASES.get(reason)
    if not diagnostic or pattern is None or not pattern.search(diagnostic):
        return False
    unless = EXCEPT.get(reason)
    return unless is None or not unless.search(diagnostic)
