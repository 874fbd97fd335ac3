/* The escaping HTML writer and the shared page frame (webhtml.h). The style and script
 * are inline with a per-response CSP nonce, so a page is one request and works offline;
 * every page works without JavaScript, which only adds copy buttons and live filtering. */
#include "webhtml.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void wh_textn(struct buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char ch = u[i];
        switch (ch) {
        case '&':
            WH_LIT(b, "&amp;");
            break;
        case '<':
            WH_LIT(b, "&lt;");
            break;
        case '>':
            WH_LIT(b, "&gt;");
            break;
        case '"':
            WH_LIT(b, "&quot;");
            break;
        case '\'':
            WH_LIT(b, "&#39;");
            break;
        default:
            if (ch < 0x20 && ch != '\t' && ch != '\n')
                break; /* dropped */
            if (ch < 0x80) {
                buf_addc(b, (char)ch);
            } else {
                size_t k = utf8_seq(u + i, n - i);
                if (k == 0) {
                    WH_LIT(b, "\xef\xbf\xbd");
                } else {
                    buf_add(b, u + i, k);
                    i += k;
                    continue;
                }
            }
        }
        i++;
    }
}

void wh_text(struct buf *b, const char *s)
{
    if (s)
        wh_textn(b, s, strlen(s));
}

void wh_int(struct buf *b, int64_t v)
{
    buf_addf(b, "%lld", (long long)v);
}

void wh_urlc(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_addc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_add(b, e, 3);
        }
    }
}

void wh_time(struct buf *b, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char out[40];
    gmtime_r(&tt, &tm);
    strftime(out, sizeof out, "%Y-%m-%d %H:%M UTC", &tm);
    buf_adds(b, out);
}

/* Readable on a phone: one column, tables and code scroll sideways inside their box. */
#define STYLE                                                                                      \
    ":root{--fg:#1d2330;--muted:#5b6474;--line:#d9dde5;--bg:#fff;--soft:#f4f6f9;--accent:#0b5fb"   \
    "a;--code:#0f1720;--codefg:#e6edf3;--bad:#a4161a;--ok:#1b6e3a}"                                \
    "*{box-sizing:border-box}"                                                                     \
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"            \
    "color:var(--fg);background:var(--bg)}"                                                        \
    "a{color:var(--accent)}"                                                                       \
    "header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.6rem 1rem;"  \
    "background:#12263f;color:#fff}"                                                               \
    "header a{color:#fff;text-decoration:none}header a:hover{text-decoration:underline}"           \
    "header .brand{font-weight:700;font-size:1.1rem;margin-right:auto}"                            \
    "header form{margin:0}header .who{color:#c9d3e0;font-size:.9rem}"                              \
    "header button{background:transparent;color:#fff;border:1px solid #8aa0bb;border-radius:4px;"  \
    "padding:.15rem .6rem;font:inherit;font-size:.9rem;cursor:pointer}"                            \
    "main{max-width:72rem;margin:0 auto;padding:1rem}"                                             \
    "h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;"            \
    "border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.2rem " \
    "0 .4rem}"                                                                                     \
    "p,li{max-width:60rem}"                                                                        \
    ".muted{color:var(--muted)}.small{font-size:.875rem}"                                          \
    "code{font:.9em/1.4 ui-monospace,'SFMono-Regular',Menlo,Consolas,monospace;background:var(--"  \
    "soft);padding:.05rem .25rem;border-radius:3px}"                                               \
    ".sample{position:relative;margin:.3rem 0 1rem}.sample pre{padding-right:4.5rem}"              \
    "pre{margin:0;background:var(--code);color:var(--codefg);padding:.75rem 1rem;border-radius:"   \
    "6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}"                               \
    "pre code{background:none;padding:0;color:inherit}"                                            \
    ".copy{position:absolute;top:.35rem;right:.35rem;font-size:.8rem;padding:.15rem .5rem;border:" \
    "1px solid #55657a;background:#243447;color:#fff;border-radius:4px;cursor:pointer}"            \
    ".scroll{overflow-x:auto;margin:.5rem 0 1rem}"                                                 \
    "table{border-collapse:collapse;width:100%;font-size:.925rem}"                                 \
    "th,td{border:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}"  \
    "th{background:var(--soft)}tr:nth-child(even) td{background:#fafbfc}"                          \
    "td.name{white-space:nowrap;font-family:ui-monospace,Menlo,Consolas,monospace;"                \
    "font-size:.875rem}"                                                                           \
    "form.search{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0 1rem}"                       \
    "input[type=search],input[type=text],input[type=url],input[type=password]{font:inherit;"       \
    "padding:.45rem .6rem;border:1px solid #aab3c0;border-radius:4px;min-width:0;width:100%;"      \
    "max-width:28rem}"                                                                             \
    "form.search input{flex:1 1 14rem}"                                                            \
    "button,.button{font:inherit;padding:.45rem .9rem;border-radius:4px;border:1px solid "         \
    "var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;"       \
    "display:inline-block}"                                                                        \
    "button.danger{background:var(--bad);border-color:var(--bad)}"                                 \
    "button.plain{background:#fff;color:var(--accent)}"                                            \
    "label{display:block;margin:.75rem 0 .25rem;font-weight:600}"                                  \
    "label.check{font-weight:400;display:flex;gap:.4rem;align-items:center}"                       \
    ".card{border:1px solid var(--line);border-radius:8px;padding:1rem;margin:1rem 0;"             \
    "max-width:44rem}"                                                                             \
    ".notice{border-left:4px solid var(--accent);background:#eef5fc;padding:.6rem .9rem;"          \
    "margin:1rem 0}"                                                                               \
    ".notice.bad{border-color:var(--bad);background:#fdeeee}"                                      \
    ".notice.ok{border-color:var(--ok);background:#edf7f0}"                                        \
    ".secret{font:1rem ui-monospace,Menlo,Consolas,monospace;word-break:break-all}"                \
    "ul.classes{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,"    \
    "minmax(17rem,1fr));gap:.5rem}"                                                                \
    "ul.classes li{border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem}"            \
    "ul.classes .desc{display:block;color:var(--muted);font-size:.875rem}"                         \
    ".actions{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center;margin:1rem 0}"             \
    ".actions form{margin:0}"                                                                      \
    "nav.toc{font-size:.925rem}nav.toc a{margin-right:.8rem;white-space:nowrap}"                   \
    "footer{max-width:72rem;margin:2rem auto;padding:0 1rem 2rem;color:var(--muted);font-size:"    \
    ".85rem}"                                                                                      \
    "@media (max-width:40rem){body{font-size:15px}main{padding:.75rem}h1{font-size:1.35rem}}"

/* Copy buttons on every .sample, live filtering of [data-filter] lists. */
#define SCRIPT                                                                                     \
    "(function(){"                                                                                 \
    "function copy(t,b){function done(){b.textContent='Copied';setTimeout(function(){"             \
    "b.textContent='Copy'},1500)}"                                                                 \
    "if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(t).then("       \
    "done,function(){fallback(t);done()})}else{fallback(t);done()}}"                               \
    "function fallback(t){var a=document.createElement('textarea');a.value=t;"                     \
    "a.setAttribute('readonly','');a.style.position='absolute';a.style.left='-9999px';"            \
    "document.body.appendChild(a);a.select();try{document.execCommand('copy')}catch(e){}"          \
    "document.body.removeChild(a)}"                                                                \
    "document.querySelectorAll('.sample').forEach(function(s){var p=s.querySelector('pre');"       \
    "if(!p)return;var b=document.createElement('button');b.type='button';b.className='copy';"      \
    "b.textContent='Copy';b.setAttribute('aria-label','Copy to clipboard');"                       \
    "b.addEventListener('click',function(){copy(p.innerText.trim(),b)});s.appendChild(b)});"       \
    "document.querySelectorAll('input[data-filter]').forEach(function(i){"                         \
    "var box=document.getElementById(i.getAttribute('data-filter'));if(!box)return;"               \
    "var items=box.querySelectorAll('[data-name]');var n=document.getElementById("                 \
    "i.getAttribute('data-count'));"                                                               \
    "function run(){var q=i.value.trim().toLowerCase(),shown=0;items.forEach(function(e){"         \
    "var ok=!q||e.getAttribute('data-name').indexOf(q)>=0;e.hidden=!ok;if(ok)shown++});"           \
    "if(n)n.textContent=shown}"                                                                    \
    "i.addEventListener('input',run);run()})"                                                      \
    "})();"

void wh_begin(struct buf *b, const struct wh_page *p)
{
    int v = p->version == 1 ? 1 : 2;
    WH_LIT(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<meta name=\"referrer\" content=\"same-origin\"><title>");
    wh_text(b, p->title);
    WH_LIT(b, " \xc2\xb7 grantd</title><style nonce=\"");
    wh_text(b, p->nonce);
    WH_LIT(b, "\">" STYLE "</style></head>\n<body><header><a class=\"brand\" href=\"/api/rest/v");
    wh_int(b, v);
    WH_LIT(b, "/doc\">grantd API</a>");
    if (p->login) {
        WH_LIT(b,
               "<a href=\"/api/rest/v2/doc\">v2 docs</a><a href=\"/api/rest/v1/doc\">v1 docs</a>");
        if (p->can_manage)
            WH_LIT(b, "<a href=\"/oauth/applications\">OAuth applications</a>");
        WH_LIT(b, "<span class=\"who\">");
        wh_text(b, p->login);
        WH_LIT(b, " (");
        wh_text(b, p->role);
        WH_LIT(b, ")</span>");
        if (p->csrf) {
            WH_LIT(b, "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" "
                      "name=\"csrf_token\" value=\"");
            wh_text(b, p->csrf);
            WH_LIT(b, "\"><button type=\"submit\">Sign out</button></form>");
        }
    }
    WH_LIT(b, "</header>\n<main>");
}

void wh_end(struct buf *b, const struct wh_page *p)
{
    WH_LIT(b, "</main>\n<footer>grantd \xc2\xb7 a Fluxx-compatible grants-management API. "
              "Pages work without JavaScript.</footer><script nonce=\"");
    wh_text(b, p->nonce);
    WH_LIT(b, "\">" SCRIPT "</script></body></html>\n");
}
