/* BizBot website chat widget: loader, panel, CSS and translations in one dependency-free file.
 * Embed: <script src="https://YOUR-BIZBOT/widget.js" data-bizbot-key="PUBLIC_KEY" async></script>
 * See widget/README.md for the API it calls, what it stores and its test hooks. */
(() => {
  'use strict';
  if (window.BizBot) return; // snippet pasted twice

  const script = document.currentScript || document.querySelector('script[data-bizbot-key]');
  const key = script && script.getAttribute('data-bizbot-key');
  if (!key) {
    console.warn('BizBot widget: the <script> tag needs data-bizbot-key="…" (copy the snippet from your BizBot dashboard); no chat is shown.');
    return;
  }
  // The API is where this script came from, not the page's origin.
  const api = `${new URL(script.src || '', location.href).origin}/api/widget/${encodeURIComponent(key)}`;

  const MAX = 4000; // characters per message, as the server allows
  const FIELDS = ['name', 'email', 'phone'];
  const DEFAULTS = { color: '#2563eb', language: 'auto' };
  // Errors the visitor cannot fix: the chat stays off on this page.
  const FATAL = ['origin_not_allowed', 'unknown_key', 'identity_required', 'identity_invalid'];

  // The widget's own labels; message texts are never translated here.
  const I18N = {
    en: {
      open: 'Open chat', close: 'Close chat', chat: 'Chat with us', ai: 'AI assistant', team: 'Team member',
      ph: 'Type a message…', send: 'Send', human: 'Talk to a human',
      away: "We're away right now. Leave your email and we'll get back to you.", email: 'Email', name: 'Name', phone: 'Phone',
      awayDone: "Thanks! We'll email you soon.", pre: 'Tell us about you to start.', start: 'Start chat',
      csat: 'How was your chat?', rate: 'Rate {n} out of 5', comment: 'Comment (optional)', thanks: 'Thanks for your feedback!',
      retry: 'Not sent · Retry', fast: "You're sending messages too fast. Try again in {n} s.",
      long: 'Message too long (max 4000 characters).', net: "Can't reach the chat. Check your connection.",
      unavail: "Chat isn't available on this site.", oops: 'Something went wrong. Try again.', typing: 'Typing…', powered: 'Powered by BizBot',
    },
    fr: {
      open: 'Ouvrir le chat', close: 'Fermer le chat', chat: 'Discutez avec nous', ai: 'Assistant IA', team: "Membre de l'équipe",
      ph: 'Écrivez un message…', send: 'Envoyer', human: 'Parler à une personne',
      away: 'Nous sommes absents. Laissez votre e-mail, nous vous répondrons.', email: 'E-mail', name: 'Nom', phone: 'Téléphone',
      awayDone: 'Merci ! Nous vous écrirons bientôt.', pre: 'Présentez-vous pour commencer.', start: 'Commencer',
      csat: 'Comment était la conversation ?', rate: 'Noter {n} sur 5', comment: 'Commentaire (facultatif)', thanks: 'Merci pour votre avis !',
      retry: 'Non envoyé · Réessayer', fast: 'Vous écrivez trop vite. Réessayez dans {n} s.',
      long: 'Message trop long (4000 caractères max.).', net: 'Chat injoignable. Vérifiez votre connexion.',
      unavail: "Le chat n'est pas disponible sur ce site.", oops: 'Une erreur est survenue. Réessayez.', typing: "En train d'écrire…", powered: 'Propulsé par BizBot',
    },
    es: {
      open: 'Abrir chat', close: 'Cerrar chat', chat: 'Chatea con nosotros', ai: 'Asistente de IA', team: 'Miembro del equipo',
      ph: 'Escribe un mensaje…', send: 'Enviar', human: 'Hablar con una persona',
      away: 'Ahora no estamos. Déjanos tu correo y te responderemos.', email: 'Correo', name: 'Nombre', phone: 'Teléfono',
      awayDone: '¡Gracias! Te escribiremos pronto.', pre: 'Cuéntanos quién eres para empezar.', start: 'Empezar',
      csat: '¿Qué tal fue el chat?', rate: 'Calificar {n} de 5', comment: 'Comentario (opcional)', thanks: '¡Gracias por tu opinión!',
      retry: 'No enviado · Reintentar', fast: 'Escribes demasiado rápido. Reintenta en {n} s.',
      long: 'Mensaje demasiado largo (máx. 4000 caracteres).', net: 'No se puede conectar. Revisa tu conexión.',
      unavail: 'El chat no está disponible en este sitio.', oops: 'Algo salió mal. Inténtalo de nuevo.', typing: 'Escribiendo…', powered: 'Con tecnología de BizBot',
    },
    pt: {
      open: 'Abrir chat', close: 'Fechar chat', chat: 'Fale conosco', ai: 'Assistente de IA', team: 'Membro da equipe',
      ph: 'Escreva uma mensagem…', send: 'Enviar', human: 'Falar com uma pessoa',
      away: 'Estamos ausentes agora. Deixe seu e-mail e responderemos.', email: 'E-mail', name: 'Nome', phone: 'Telefone',
      awayDone: 'Obrigado! Escreveremos em breve.', pre: 'Conte-nos quem você é para começar.', start: 'Começar',
      csat: 'Como foi a conversa?', rate: 'Avaliar {n} de 5', comment: 'Comentário (opcional)', thanks: 'Obrigado pela avaliação!',
      retry: 'Não enviada · Tentar de novo', fast: 'Você está escrevendo rápido demais. Tente em {n} s.',
      long: 'Mensagem longa demais (máx. 4000 caracteres).', net: 'Sem conexão com o chat. Verifique sua internet.',
      unavail: 'O chat não está disponível neste site.', oops: 'Algo deu errado. Tente de novo.', typing: 'Digitando…', powered: 'Desenvolvido por BizBot',
    },
    sw: {
      open: 'Fungua gumzo', close: 'Funga gumzo', chat: 'Zungumza nasi', ai: 'Msaidizi wa AI', team: 'Mwanatimu',
      ph: 'Andika ujumbe…', send: 'Tuma', human: 'Zungumza na mtu',
      away: 'Hatupo kwa sasa. Acha barua pepe yako nasi tutakujibu.', email: 'Barua pepe', name: 'Jina', phone: 'Simu',
      awayDone: 'Asante! Tutakuandikia hivi karibuni.', pre: 'Jitambulishe ili uanze.', start: 'Anza',
      csat: 'Mazungumzo yalikuwaje?', rate: 'Toa alama {n} kati ya 5', comment: 'Maoni (si lazima)', thanks: 'Asante kwa maoni yako!',
      retry: 'Haujatumwa · Jaribu tena', fast: 'Unatuma haraka mno. Jaribu tena baada ya sekunde {n}.',
      long: 'Ujumbe ni mrefu mno (herufi 4000 zaidi).', net: 'Gumzo halifikiki. Angalia muunganisho wako.',
      unavail: 'Gumzo halipatikani kwenye tovuti hii.', oops: 'Hitilafu imetokea. Jaribu tena.', typing: 'Anaandika…', powered: 'Inaendeshwa na BizBot',
    },
    ar: {
      open: 'افتح الدردشة', close: 'أغلق الدردشة', chat: 'تحدث معنا', ai: 'مساعد ذكي', team: 'عضو في الفريق',
      ph: 'اكتب رسالة…', send: 'إرسال', human: 'تحدث إلى شخص',
      away: 'نحن غير متاحين الآن. اترك بريدك الإلكتروني وسنرد عليك.', email: 'البريد الإلكتروني', name: 'الاسم', phone: 'الهاتف',
      awayDone: 'شكرًا! سنراسلك قريبًا.', pre: 'عرّفنا بنفسك لنبدأ.', start: 'ابدأ',
      csat: 'كيف كانت المحادثة؟', rate: 'التقييم {n} من 5', comment: 'تعليق (اختياري)', thanks: 'شكرًا على رأيك!',
      retry: 'لم تُرسل · أعد المحاولة', fast: 'أنت ترسل بسرعة كبيرة. حاول بعد {n} ثانية.',
      long: 'الرسالة طويلة جدًا (4000 حرف كحد أقصى).', net: 'تعذّر الاتصال بالدردشة. تحقق من اتصالك.',
      unavail: 'الدردشة غير متاحة على هذا الموقع.', oops: 'حدث خطأ. حاول مرة أخرى.', typing: 'يكتب…', powered: 'مدعوم من BizBot',
    },
  };

  const ICON = {
    chat: '<svg viewBox="0 0 24 24" width="28" height="28" fill="currentColor" aria-hidden="true"><path d="M6 3h12a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3h-7l-5 4v-4.2A3 3 0 0 1 3 15V6a3 3 0 0 1 3-3z"/></svg>',
    close: '<svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6 6 18"/></svg>',
    send: '<svg viewBox="0 0 24 24" width="20" height="20" fill="currentColor" aria-hidden="true"><path d="M3 20.5 21 12 3 3.5v6.6L15 12 3 13.9z"/></svg>',
  };

  // In a shadow root: page CSS can't reach in, ours can't leak. --c: business colour, --ct: text on it.
  const CSS = `
:host{all:initial}
.w{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#111827;text-align:start}
.w *{box-sizing:border-box;margin:0;padding:0;border:0;font:inherit;color:inherit;background:none}
[hidden]{display:none!important}
svg{display:block}
button{cursor:pointer}
button:disabled{cursor:default;opacity:.6}
:focus-visible{outline:0;box-shadow:0 0 0 2px #fff,0 0 0 4px #111827}
::placeholder{color:#6b7280;opacity:1}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.l,.x,.s{display:grid;place-items:center;border-radius:50%}
.l,.s,.h,.btn,.b[data-sender=customer]{background:var(--c);color:var(--ct)}
.l{position:fixed;bottom:20px;right:20px;width:56px;height:56px;box-shadow:0 4px 14px #0004}
.dot{position:absolute;top:2px;right:2px;width:14px;height:14px;border-radius:50%;background:#dc2626;border:2px solid #fff}
.p{position:fixed;bottom:88px;right:20px;width:370px;height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 8px 40px #0004}
.left .l,.left .p{right:auto;left:20px}
.h{display:flex;align-items:center;gap:8px;padding:14px 0;padding-inline:16px 12px}
.h>div{flex:1;min-width:0}
.tt{font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.st,.n,.retry,.cnt{font-size:12px}
.x{width:36px;height:36px}
.off{padding:10px 16px;background:#fef3c7;color:#78350f}
.m{flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:8px;padding:16px;background:#f9fafb}
.b,.t{align-self:flex-start;max-width:82%;padding:8px 12px;border-radius:14px;background:#fff;border:1px solid #e5e7eb;white-space:pre-wrap;overflow-wrap:anywhere}
.b[data-sender=customer]{align-self:flex-end;border-color:transparent}
.b[data-sender=system]{align-self:center;border:0;background:none;color:#4b5563;font-size:12px;text-align:center}
.b.fail{border:2px solid #b91c1c}
.b a{text-decoration:underline}
.n{display:block;font-weight:600;color:#4b5563}
.retry{align-self:flex-end;margin-top:-4px;color:#b91c1c;text-decoration:underline}
.t{display:flex;gap:4px;padding:12px}
.t i{width:6px;height:6px;border-radius:50%;background:#6b7280;animation:bb 1s infinite}
.t i+i{animation-delay:.2s}
.t i+i+i{animation-delay:.4s}
@keyframes bb{50%{opacity:.25}}
@media (prefers-reduced-motion:reduce){.t i{animation:none}}
.q{display:flex;flex-wrap:wrap;gap:6px;padding:0 16px 8px}
.q:empty{display:none}
.q button{padding:6px 12px;border:1px solid var(--c);border-radius:16px}
.err{padding:6px 16px;color:#b91c1c}
.err:empty,.cnt:empty{display:none}
.cnt{padding:0 16px;text-align:end;color:#4b5563}
.cnt.over{color:#b91c1c;font-weight:600}
.c{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid #e5e7eb}
.c textarea{flex:1;min-height:40px;max-height:120px;resize:none}
.c textarea,.k input,.k textarea{padding:8px 10px;border:1px solid #9ca3af;border-radius:8px;background:#fff;width:100%}
.s{flex:none;width:40px;height:40px}
[dir=rtl] .s svg{transform:scaleX(-1)}
.hu{margin:0 12px 8px;padding:8px;border:1px solid #9ca3af;border-radius:10px}
.k{display:flex;flex-direction:column;gap:8px;padding:12px 16px;border-top:1px solid #e5e7eb}
.off .k{flex-direction:row;padding:8px 0 0;border:0}
.k label{display:grid;gap:2px}
.btn{padding:8px 14px;border-radius:8px;font-weight:600}
.rate{display:flex;justify-content:center;gap:4px}
.rate button{font-size:26px;line-height:1;color:#6b7280}
.rate .on{color:#b45309}
.f{padding:4px 0 8px;text-align:center;font-size:11px;color:#4b5563}
@media (max-width:480px){.p{inset:0!important;width:100vw;height:100vh;height:100dvh;max-width:none;max-height:none;border-radius:0}.open .l{display:none}}
`;

  // Storage throws in some privacy modes: then we just forget.
  const store = (area, name, value) => {
    try {
      const s = window[area], k = `bizbot:${key}:${name}`;
      if (value === undefined) return s.getItem(k);
      if (value === null) s.removeItem(k); else s.setItem(k, value);
    } catch (e) { return null; }
  };
  const local = (name, value) => store('localStorage', name, value);
  const tab = (name, value) => store('sessionStorage', name, value);
  const settings = () => window.bizbotSettings || {}; // identity set by the host page
  const chars = (s) => [...s].length; // code points, like the server
  // randomUUID needs https; elsewhere any 8-64 [A-Za-z0-9] id will do.
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));
  // Black or white text, whichever contrasts more (WCAG luminance; always >= 4.5:1).
  const readable = (hex) => ([1, 3, 5].reduce((lum, at, i) => {
    const c = parseInt(hex.substr(at, 2), 16) / 255;
    return lum + [0.2126, 0.7152, 0.0722][i] * (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  }, 0) > 0.179 ? '#000' : '#fff');

  // h(tag, {attr, onclick, _text: i18nKey, '_aria-label': i18nKey}, [kids]): string kids are text
  // nodes, so server text never becomes markup; `html` is for our own SVG only.
  const labels = []; // [node, attr, key], re-applied if the language changes
  const setLabel = ([n, a, k]) => (a === 'text' ? (n.textContent = T[k]) : n.setAttribute(a, T[k]));
  const h = (tag, attrs = {}, kids = []) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else if (k === 'html') n.innerHTML = v;
      else if (k[0] === '_') setLabel(labels[labels.push([n, k.slice(1), v]) - 1]);
      else if (v != null && v !== false) n.setAttribute(k, v === true ? '' : v);
    }
    n.append(...kids);
    return n;
  };

  let cfg, lang, T, root, wrap, launcher, icon, dot, panel, title, agent, greet, list, typingEl, quick, error, counter;
  let input, sendBtn, composer, human, closeBtn, offline, prechat, csat;
  let token = local('token'), conv = null, lastId = 0, ready = null, es = null, esToken = null;
  let isOpen = false, disabled = false, typingTimer = 0, retryDelay = 2000;
  const seen = new Set(), byCid = new Map();

  function applyConfig(c) {
    cfg = { ...DEFAULTS, ...c };
    const want = String(cfg.language === 'auto' ? navigator.language : cfg.language).slice(0, 2).toLowerCase();
    lang = I18N[want] ? want : 'en';
    T = I18N[lang];
    if (!wrap) return;
    const colour = /^#[0-9a-f]{6}$/i.test(cfg.color) ? cfg.color : DEFAULTS.color;
    wrap.style.setProperty('--c', colour);
    wrap.style.setProperty('--ct', readable(colour));
    wrap.classList.toggle('left', cfg.position === 'left');
    labels.forEach(setLabel);
    if (!panel) return;
    panel.dir = lang === 'ar' ? 'rtl' : 'ltr';
    panel.lang = lang;
    title.textContent = cfg.title || T.chat;
    panel.setAttribute('aria-label', title.textContent);
    greet.textContent = cfg.greeting || '';
    greet.hidden = !cfg.greeting;
    renderConv();
  }

  // --- HTTP

  async function call(path, body) {
    const init = { credentials: 'omit' };
    if (body) Object.assign(init, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    let res;
    try {
      res = await fetch(api + path, init);
    } catch (e) {
      throw Object.assign(new Error(''), { code: 'network' });
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw Object.assign(new Error(data.error || ''), { code: data.code, retry: data.retry_after });
    return data;
  }

  const errText = (e) => ({
    rate_limited: T.fast.replace('{n}', Math.ceil(e.retry || 1)),
    too_long: T.long, network: T.net, origin_not_allowed: T.unavail, unknown_key: T.unavail,
  }[e.code] || e.message || T.oops);

  const showError = (text) => { error.textContent = text; };

  function fail(e) {
    if (FATAL.includes(e.code)) {
      disabled = input.disabled = sendBtn.disabled = true;
      togglePrechat(false);
    }
    showError(errText(e));
  }

  // An expired stored token: retry once as a new visitor.
  async function sessionCall(extra = {}) {
    const s = settings();
    const body = { visitor_token: token, user_id: s.userId || null, user_hash: s.userHash || null, language: navigator.language };
    for (const f of FIELDS) if (extra[f] || s[f]) body[f] = extra[f] || s[f];
    try {
      return await call('/session', body);
    } catch (e) {
      if (e.code !== 'invalid_token' || !token) throw e;
      token = body.visitor_token = null;
      return call('/session', body);
    }
  }

  function applySession(r, extra = {}) {
    local('token', token = r.visitor_token);
    conv = r.conversation || null;
    (r.messages || []).forEach(addMessage);
    const s = settings(), modes = cfg.prechat || {};
    const missing = FIELDS.some((f) => modes[f] && modes[f] !== 'off' && !s[f] && !extra[f]);
    togglePrechat(r.needs_prechat || (!conv && missing && !local('prechat')));
    connect();
  }

  // Config and session in parallel: one round trip to the history.
  function start() {
    return ready || (ready = (async () => {
      try {
        const [c, r] = await Promise.all([call(`/config?lang=${encodeURIComponent(navigator.language)}`), sessionCall()]);
        local('config', JSON.stringify(c));
        applyConfig(c);
        showOffline();
        applySession(r);
      } catch (e) {
        ready = null; // next open or send retries
        fail(e);
        throw e;
      }
    })());
  }

  // --- live stream

  function connect() {
    if (es && esToken === token) return;
    if (es) es.close();
    const src = es = new EventSource(`${api}/stream?visitor_token=${encodeURIComponent(esToken = token)}&after=${lastId}`);
    const on = (type, fn) => src.addEventListener(type, (e) => {
      try { fn(JSON.parse(e.data)); } catch (err) { /* skip a malformed event */ }
    });
    on('message', addMessage);
    on('conversation', (c) => { conv = c; renderConv(); });
    on('typing', (d) => showTyping(d.typing));
    src.onopen = () => { retryDelay = 2000; };
    // The browser retries drops itself (with Last-Event-ID) but gives up on HTTP errors: re-check.
    src.onerror = () => {
      if (src.readyState === EventSource.CLOSED && es === src) { es = null; reconnect(); }
    };
  }

  function reconnect() {
    setTimeout(() => sessionCall().then(applySession, (e) => (e.code === 'network' ? reconnect() : fail(e))), retryDelay);
    retryDelay = Math.min(retryDelay * 2, 60000);
  }

  // --- messages

  function linkify(text) {
    const out = [];
    let at = 0;
    for (const m of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
      const url = m[0].replace(/[.,;:!?)\]]+$/, ''); // punctuation ends the sentence
      out.push(text.slice(at, m.index), h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, [url]));
      at = m.index + url.length;
    }
    out.push(text.slice(at));
    return out;
  }

  function fill(node, m) {
    node.textContent = '';
    if (m.sender === 'agent') node.append(h('span', { 'data-bizbot': 'sender-name', class: 'n' }, [m.agent_name || T.team]));
    node.append(...linkify(String(m.text || '')));
  }

  const atEnd = () => list.scrollHeight - list.scrollTop - list.clientHeight < 80;

  function bubble(m) {
    const end = atEnd();
    const node = h('div', { 'data-bizbot': 'message', 'data-sender': m.sender, class: 'b', dir: 'auto' });
    fill(node, m);
    typingEl.before(node); // the typing dots stay last
    if (m.client_id) byCid.set(m.client_id, node);
    if (end || m.sender === 'customer') list.scrollTop = list.scrollHeight; // unless reading back
    return node;
  }

  function unfail(node) {
    node.classList.remove('fail');
    if (node.retry) node.retry.remove();
  }

  // Session and stream overlap, and reconnects replay: dedupe by id; client_id settles our own bubble.
  function addMessage(m) {
    if (m.id != null) {
      if (seen.has(m.id)) return;
      seen.add(m.id);
      lastId = Math.max(lastId, m.id);
    }
    const mine = m.client_id && byCid.get(m.client_id);
    if (mine) return unfail(mine), fill(mine, m);
    bubble(m);
    showQuick(m.quick_replies);
    if (m.sender !== 'customer') {
      showTyping(false);
      if (!isOpen) dot.hidden = false; // history loads only while open, so this is news
    }
  }

  function showQuick(items) {
    quick.textContent = '';
    for (const q of items || []) quick.append(h('button', { type: 'button', 'data-bizbot': 'quick-reply', onclick: () => send(q) }, [q]));
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    const end = atEnd();
    typingEl.hidden = !on;
    if (on) typingTimer = setTimeout(showTyping, 30000); // in case the reply is lost
    if (end) list.scrollTop = list.scrollHeight;
  }

  async function send(raw, cid, node, again) {
    const text = raw.trim();
    if (!text || disabled) return;
    if (chars(text) > MAX) return showError(T.long);
    if (!node) {
      node = bubble({ client_id: cid = uuid(), sender: 'customer', text });
      input.value = '';
      onInput();
      showQuick();
    }
    unfail(node);
    showError('');
    const st = conv && conv.status;
    if (!st || st === 'ai' || st === 'resolved') showTyping(true); // resolved: a new AI chat starts
    try {
      await start();
      await call('/messages', { visitor_token: token, client_id: cid, text });
    } catch (e) {
      if (e.code === 'invalid_token' && !again) { // new session, same client_id
        ready = token = null;
        return send(text, cid, node, true);
      }
      showTyping(false);
      node.classList.add('fail');
      node.after(node.retry = h('button', { type: 'button', class: 'retry', onclick: () => send(text, cid, node) }, [T.retry]));
      if (e.code === 'prechat_required') togglePrechat(true);
      showError(errText(e));
    }
  }

  // --- conversation: header, human button, CSAT

  function renderConv() {
    const st = conv && conv.status;
    agent.textContent = st === 'human' && conv.agent_name ? `${conv.agent_name} · ${T.team}` : T.ai;
    human.hidden = disabled || !!prechat || st === 'waiting_for_agent' || st === 'human';
    const ask = st === 'resolved' && conv.csat_score == null;
    // A new conversation removes the prompt; a thank-you stays until then.
    if (csat && (csat.cid !== (conv && conv.id) || (!csat.done && !ask))) csat = csat.remove();
    if (ask && !csat) error.before(csat = buildCsat(conv.id));
  }

  async function handoff() {
    human.disabled = true;
    showError('');
    try {
      await start();
      conv = (await call('/handoff', { visitor_token: token })).conversation || conv;
      renderConv();
    } catch (e) { showError(errText(e)); }
    human.disabled = false;
  }

  function buildCsat(cid) {
    let score = 0;
    const submit = h('button', { type: 'submit', class: 'btn', disabled: true }, [T.send]);
    const stars = [1, 2, 3, 4, 5].map((n) => h('button', {
      type: 'button', 'data-bizbot': 'rate', 'data-score': n, 'aria-label': T.rate.replace('{n}', n), 'aria-pressed': 'false',
      onclick: () => {
        score = n;
        stars.forEach((b, i) => { b.classList.toggle('on', i < n); b.setAttribute('aria-pressed', i + 1 === n); });
        submit.disabled = false;
      },
    }, ['★']));
    const comment = h('textarea', { rows: 2, placeholder: T.comment, 'aria-label': T.comment });
    const form = h('form', {
      'data-bizbot': 'csat', class: 'k',
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = form.done = true; // keep the form while the rating's conversation event arrives
        try {
          await call('/csat', { visitor_token: token, score, comment: comment.value.trim() || null });
          form.replaceChildren(h('p', { role: 'status' }, [T.thanks]));
        } catch (err) { submit.disabled = form.done = false; showError(errText(err)); }
      },
    }, [h('p', {}, [T.csat]), h('div', { class: 'rate', role: 'group', 'aria-label': T.csat }, stars), comment, submit]);
    form.cid = cid;
    return form;
  }

  // --- prechat and offline forms (the browser validates required and email)

  function togglePrechat(show) {
    const active = root.activeElement;
    const hadFocus = active && (active === input || (prechat && prechat.contains(active)));
    if (prechat) prechat.remove();
    prechat = show && !disabled && buildPrechat();
    if (prechat) composer.before(prechat);
    composer.hidden = !!prechat;
    renderConv();
    if (hadFocus) focusIn();
  }

  function buildPrechat() {
    const modes = cfg.prechat || {};
    const inputs = FIELDS.filter((f) => modes[f] && modes[f] !== 'off').map((f) => h('input', {
      name: f, type: { email: 'email', phone: 'tel' }[f] || 'text', autocomplete: f === 'phone' ? 'tel' : f,
      required: modes[f] === 'required', value: settings()[f],
    }));
    const btn = h('button', { type: 'submit', class: 'btn' }, [T.start]);
    return h('form', {
      'data-bizbot': 'prechat', class: 'k',
      onsubmit: async (e) => {
        e.preventDefault();
        const vals = {};
        for (const i of inputs) if (i.value.trim()) vals[i.name] = i.value.trim();
        btn.disabled = true;
        showError('');
        local('prechat', '1'); // optional fields are asked once
        try { applySession(await sessionCall(vals), vals); } catch (err) { btn.disabled = false; showError(errText(err)); }
      },
    }, [h('p', {}, [T.pre]), ...inputs.map((i) => h('label', {}, [T[i.name] + (i.required ? ' *' : ''), i])), btn]);
  }

  function showOffline() {
    if (offline) offline.remove();
    if (cfg.open !== false) return;
    const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'email', placeholder: T.email, 'aria-label': T.email });
    const btn = h('button', { type: 'submit', class: 'btn' }, [T.send]);
    const done = () => h('p', { role: 'status' }, [T.awayDone]);
    const form = h('form', {
      'data-bizbot': 'offline-form', class: 'k',
      onsubmit: async (e) => {
        e.preventDefault();
        btn.disabled = true;
        try {
          await start();
          await call('/offline', { visitor_token: token, email: email.value.trim(), name: settings().name || null, message: null });
          tab('offline', '1');
          form.replaceWith(done());
        } catch (err) { btn.disabled = false; showError(errText(err)); }
      },
    }, [email, btn]);
    offline = h('div', { 'data-bizbot': 'offline', class: 'off' }, [h('p', {}, [cfg.offline_message || T.away]), tab('offline') ? done() : form]);
    panel.firstChild.after(offline);
  }

  // --- composer and panel

  function onInput() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 120)}px`;
    const n = chars(input.value);
    counter.textContent = n > MAX - 500 ? `${n} / ${MAX}` : '';
    counter.classList.toggle('over', n > MAX);
    sendBtn.disabled = disabled || n > MAX;
  }

  function build() {
    title = h('div', { 'data-bizbot': 'title', class: 'tt' });
    agent = h('div', { 'data-bizbot': 'agent', class: 'st' });
    greet = h('div', { 'data-bizbot': 'greeting', class: 'b', dir: 'auto', hidden: true });
    typingEl = h('div', { 'data-bizbot': 'typing', class: 't', hidden: true }, [h('span', { class: 'sr', _text: 'typing' }), h('i'), h('i'), h('i')]);
    list = h('div', { 'data-bizbot': 'messages', role: 'log', 'aria-live': 'polite', class: 'm' }, [greet, typingEl]);
    quick = h('div', { class: 'q' });
    error = h('div', { 'data-bizbot': 'error', role: 'alert', class: 'err' });
    counter = h('div', { class: 'cnt', 'aria-live': 'polite' });
    input = h('textarea', {
      'data-bizbot': 'input', rows: 1, _placeholder: 'ph', '_aria-label': 'ph', oninput: onInput,
      onkeydown: (e) => { // Shift+Enter and IME composing keep newlines
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(input.value); }
      },
    });
    sendBtn = h('button', { type: 'button', 'data-bizbot': 'send', class: 's', '_aria-label': 'send', html: ICON.send, onclick: () => send(input.value) });
    composer = h('div', { class: 'c' }, [input, sendBtn]);
    human = h('button', { type: 'button', 'data-bizbot': 'human', class: 'hu', _text: 'human', onclick: handoff });
    closeBtn = h('button', { type: 'button', 'data-bizbot': 'close', class: 'x', '_aria-label': 'close', html: ICON.close, onclick: close });
    panel = h('div', { 'data-bizbot': 'panel', role: 'dialog', class: 'p', hidden: true, onkeydown: (e) => e.key === 'Escape' && close() }, [
      h('div', { class: 'h' }, [h('div', {}, [title, agent]), closeBtn]),
      list, quick, error, counter, composer, human, h('div', { class: 'f', _text: 'powered' }),
    ]);
    wrap.append(panel);
    applyConfig(cfg);
  }

  function focusIn() {
    (prechat ? prechat.querySelector('input,button') : input.disabled ? closeBtn : input).focus();
  }

  // auto: re-opened after a navigation; don't steal focus (or pop a phone keyboard).
  function open(auto) {
    if (!wrap) return;
    if (!panel) build();
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      dot.hidden = true;
      wrap.classList.add('open');
      launcher.setAttribute('aria-expanded', 'true');
      icon.innerHTML = ICON.close;
      tab('open', '1');
      list.scrollTop = list.scrollHeight;
      start().catch(() => {}); // errors show in the panel
    }
    if (auto !== true) focusIn();
  }

  function close() {
    if (!isOpen) return;
    const hadFocus = !!root.activeElement;
    isOpen = false;
    panel.hidden = true;
    wrap.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    icon.innerHTML = ICON.chat;
    tab('open', null);
    if (hadFocus) launcher.focus();
  }

  const toggle = () => (isOpen ? close() : open());

  // Until the visitor clicks: no network, just a button.
  function init() {
    let cached;
    try { cached = JSON.parse(local('config')); } catch (e) { /* defaults */ }
    applyConfig(cached);
    const host = document.createElement('bizbot-widget');
    // Inline !important beats any page CSS, even `* { all: unset }`.
    const pin = { all: 'initial', position: 'fixed', 'z-index': 2147483647, bottom: 0, right: 0, width: 0, height: 0, display: 'block' };
    for (const p in pin) host.style.setProperty(p, pin[p], 'important');
    root = host.attachShadow({ mode: 'open' });
    try { // constructed sheets pass a strict style-src CSP
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.append(h('style', {}, [CSS]));
    }
    icon = h('span', { html: ICON.chat });
    dot = h('span', { class: 'dot', hidden: true });
    launcher = h('button', { type: 'button', 'data-bizbot': 'launcher', class: 'l', '_aria-label': 'open', 'aria-expanded': 'false', onclick: toggle }, [icon, dot]);
    root.append(wrap = h('div', { class: 'w' }, [launcher]));
    applyConfig(cfg);
    document.body.append(host);
    if (tab('open') === '1') open(true); // was open before this page load
  }

  window.BizBot = { open: () => open(), close, toggle };
  if (document.body) init(); else document.addEventListener('DOMContentLoaded', init);
})();
