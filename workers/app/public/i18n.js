/**
 * Every string the page shows, in one place, per language. `{name}` is filled in by t().
 * Error texts say what happened and what the user can do; codes are the API's (README
 * "Errors") plus a few of the page's own (empty_prompt, unknown, unreachable when reconnecting gave up;
 * network and interrupted, which this page no longer shows as it reconnects instead, for an
 * older page still open in a tab).
 */
export const STRINGS = {
  en: {
    title: "Image generation",
    tagline: "Describe a picture; it is drawn in about a minute.",
    language: "Language",
    promptLabel: "What should the picture show?",
    promptPlaceholder: "A red fox in the snow, watercolour",
    promptHint: "Enter generates, Shift+Enter starts a new line, Esc cancels.",
    settings: "Settings",
    model: "Model",
    size: "Size",
    customSize: "Width × height, e.g. 2048x1152",
    quality: "Quality",
    count: "Images",
    auto: "Auto",
    low: "Low",
    medium: "Medium",
    high: "High",
    square: "square",
    landscape: "landscape",
    portrait: "portrait",
    custom: "Other size…",
    generate: "Generate",
    cancel: "Cancel",
    elapsed: "Elapsed time",
    working: "Drawing… this usually takes under a minute, sometimes up to two.",
    preview: "Preview {n}, the final picture is still coming.",
    done: "Done in {time}.",
    doneFewer: "Done in {time}, with {got} of {n} images.",
    fewer: "The image service returned {got} of {n} images; the others were not drawn.",
    waiting: "Waiting for its turn…",
    queued: "In the queue: {pos}, about {eta}.",
    queuedNoEta: "In the queue: {pos}.",
    reconnecting: "Connection lost, reconnecting… The picture is not lost.",
    resuming: "Picking up the picture started earlier…",
    ordinal: { one: "{n}st", two: "{n}nd", few: "{n}rd", other: "{n}th" },
    cancelled: "Cancelled. Nothing more will arrive for this request.",
    cancelKept:
      "Stopped waiting. The picture was already being drawn (and is paid for), so it will appear in your history when it is ready.",
    result: "Result",
    download: "Download",
    revised: "The service understood the prompt as: {text}",
    imageFailed: "This image could not be loaded. Try opening it with the link.",
    history: "Your recent pictures",
    historyNote: "Kept only in this browser.",
    historyEmpty: "Nothing yet.",
    clearHistory: "Clear history",
    historyCleared: "History cleared.",
    reuse: "Use this prompt",
    configFailed: "The list of models could not be loaded; the server's default settings will be used.",
    requestId: "Request id (for support): {id}",
    retryIn: "Try again in {wait}.",
    seconds: "{n} s",
    minutes: "{n} min",
    hours: "{n} h",
    errors: {
      empty_prompt: ["The description is empty.", "Write what the picture should show, then press Generate."],
      invalid_request: ["The service did not accept these settings.", "Check the description and settings."],
      content_policy: [
        "The description was refused by the service's content rules.",
        "Rephrase it, leaving out anything violent, explicit or about real people, and try again.",
      ],
      payload_too_large: ["The description is too long.", "Shorten it and try again."],
      request_timeout: ["The request arrived too slowly.", "Check your connection and try again."],
      unsupported_media_type: [
        "The page and the server do not understand each other.",
        "Reload the page and try again.",
      ],
      not_found: ["The page and the server do not understand each other.", "Reload the page and try again."],
      method_not_allowed: ["The page and the server do not understand each other.", "Reload the page and try again."],
      upstream_rate_limited: ["Too many pictures are being drawn right now.", "Wait a minute and try again."],
      rate_limited: ["You have asked for many pictures in a short time.", "Wait a minute and try again."],
      budget_exhausted: ["This service has reached its limit of pictures for today.", "Try again tomorrow."],
      budget_busy: ["Pictures being drawn right now take up the rest of today's limit.", "Try again in a few seconds."],
      unauthorized: [
        "This service needs an access key that this page does not have.",
        "Ask the site's owner for access.",
      ],
      origin_not_allowed: [
        "This site is not allowed to use the image service.",
        "This is on our side. Please tell support.",
      ],
      request_in_progress: ["This request is already being worked on.", "Wait for it to finish, then try again."],
      idempotency_key_reused: [
        "The server mixed this request up with an earlier one.",
        "Reload the page and try again.",
      ],
      region_blocked: [
        "The image service cannot be reached from our server's location at the moment.",
        "This is on our side, not yours. Try again in a few minutes; if it keeps happening, tell support.",
      ],
      egress_unreachable: [
        "Our server could not reach the image service. Nothing was charged.",
        "This is on our side, not yours. Try again in a minute; if it keeps happening, tell support.",
      ],
      upstream_auth: [
        "The image service did not accept our server's access.",
        "This is on our side. Please tell support.",
      ],
      upstream_error: ["The image service failed to draw the picture.", "Try again in a little while."],
      upstream_timeout: [
        "The image service took too long to answer.",
        "Try again, perhaps with a lower quality or a simpler description.",
      ],
      config_error: ["The service is not set up correctly.", "This is on our side. Please tell support."],
      internal_error: ["Something broke on our server.", "Try again; if it keeps happening, tell support."],
      generation_interrupted: [
        "The server restarted while drawing; this picture was not finished.",
        "Try again. The unfinished attempt may still have been billed.",
      ],
      queue_full: ["Too many pictures are waiting to be drawn right now.", "Try again in a few minutes."],
      queue_timeout: [
        "The picture waited too long for its turn and was not drawn; nothing was billed.",
        "Try again in a few minutes.",
      ],
      cancelled: ["The picture was cancelled before it was drawn.", "Press Generate to start again."],
      not_cancellable: ["The picture is already being drawn and can no longer be cancelled.", "Wait for it to finish."],
      network: ["The server could not be reached.", "Check your internet connection and try again."],
      interrupted: ["The connection broke before the picture was ready.", "Try again."],
      unreachable: [
        "The server could not be reached for a while, so this page stopped waiting for the picture.",
        "It is not lost: reload the page in a few minutes to see it.",
      ],
      unknown: ["Something unexpected happened.", "Try again; if it keeps happening, tell support."],
    },
  },
  ru: {
    title: "Генерация изображений",
    tagline: "Опишите картинку — она будет готова примерно за минуту.",
    language: "Язык",
    promptLabel: "Что должно быть на картинке?",
    promptPlaceholder: "Рыжая лиса в снегу, акварель",
    promptHint: "Enter — создать, Shift+Enter — новая строка, Esc — отменить.",
    settings: "Настройки",
    model: "Модель",
    size: "Размер",
    customSize: "Ширина × высота, например 2048x1152",
    quality: "Качество",
    count: "Картинок",
    auto: "Авто",
    low: "Низкое",
    medium: "Среднее",
    high: "Высокое",
    square: "квадрат",
    landscape: "альбомная",
    portrait: "портретная",
    custom: "Другой размер…",
    generate: "Создать",
    cancel: "Отменить",
    elapsed: "Прошло времени",
    working: "Рисуем… обычно это занимает меньше минуты, иногда до двух.",
    preview: "Набросок {n}, готовая картинка ещё в пути.",
    done: "Готово за {time}.",
    doneFewer: "Готово за {time}: {got} из {n} картинок.",
    fewer: "Сервис изображений вернул {got} из {n} картинок; остальные не нарисованы.",
    waiting: "Ждём своей очереди…",
    queued: "В очереди: {pos}, примерно {eta}.",
    queuedNoEta: "В очереди: {pos}.",
    reconnecting: "Связь потеряна, переподключаемся… Картинка не потеряется.",
    resuming: "Возвращаемся к картинке, начатой раньше…",
    ordinal: { other: "{n}-й" },
    cancelled: "Отменено. Результата этого запроса не будет.",
    cancelKept:
      "Ожидание остановлено. Картинка уже рисовалась (и оплачена), поэтому она появится в истории, когда будет готова.",
    result: "Результат",
    download: "Скачать",
    revised: "Сервис понял описание так: {text}",
    imageFailed: "Не удалось загрузить картинку. Попробуйте открыть её по ссылке.",
    history: "Ваши недавние картинки",
    historyNote: "Хранятся только в этом браузере.",
    historyEmpty: "Пока ничего нет.",
    clearHistory: "Очистить историю",
    historyCleared: "История очищена.",
    reuse: "Взять это описание",
    configFailed: "Не удалось загрузить список моделей; будут использованы настройки сервера по умолчанию.",
    requestId: "Номер запроса (для поддержки): {id}",
    retryIn: "Попробуйте снова через {wait}.",
    seconds: "{n} с",
    minutes: "{n} мин",
    hours: "{n} ч",
    errors: {
      empty_prompt: ["Описание пустое.", "Напишите, что должно быть на картинке, и нажмите «Создать»."],
      invalid_request: ["Сервис не принял эти настройки.", "Проверьте описание и настройки."],
      content_policy: [
        "Сервис отклонил описание по своим правилам о содержании.",
        "Переформулируйте его без насилия, откровенных сцен и реальных людей и попробуйте снова.",
      ],
      payload_too_large: ["Описание слишком длинное.", "Сократите его и попробуйте снова."],
      request_timeout: ["Запрос шёл слишком медленно.", "Проверьте подключение и попробуйте снова."],
      unsupported_media_type: ["Страница и сервер не поняли друг друга.", "Обновите страницу и попробуйте снова."],
      not_found: ["Страница и сервер не поняли друг друга.", "Обновите страницу и попробуйте снова."],
      method_not_allowed: ["Страница и сервер не поняли друг друга.", "Обновите страницу и попробуйте снова."],
      upstream_rate_limited: ["Сейчас рисуется слишком много картинок.", "Подождите минуту и попробуйте снова."],
      rate_limited: ["Вы запросили много картинок за короткое время.", "Подождите минуту и попробуйте снова."],
      budget_exhausted: ["Сервис исчерпал дневной лимит картинок.", "Попробуйте завтра."],
      budget_busy: [
        "Картинки, которые рисуются сейчас, занимают остаток дневного лимита.",
        "Попробуйте через несколько секунд.",
      ],
      unauthorized: [
        "Для сервиса нужен ключ доступа, которого у этой страницы нет.",
        "Попросите доступ у владельца сайта.",
      ],
      origin_not_allowed: [
        "Этому сайту не разрешено пользоваться сервисом изображений.",
        "Дело на нашей стороне. Напишите в поддержку.",
      ],
      request_in_progress: ["Этот запрос уже выполняется.", "Дождитесь его окончания и попробуйте снова."],
      idempotency_key_reused: ["Сервер перепутал этот запрос с более ранним.", "Обновите страницу и попробуйте снова."],
      region_blocked: [
        "Сервис изображений сейчас недоступен из места, где работает наш сервер.",
        "Дело на нашей стороне, не у вас. Попробуйте через несколько минут; если не поможет, напишите в поддержку.",
      ],
      egress_unreachable: [
        "Наш сервер не смог связаться с сервисом изображений. Ничего не списано.",
        "Дело на нашей стороне, не у вас. Попробуйте через минуту; если не поможет, напишите в поддержку.",
      ],
      upstream_auth: [
        "Сервис изображений не принял доступ нашего сервера.",
        "Дело на нашей стороне. Напишите в поддержку.",
      ],
      upstream_error: ["Сервису изображений не удалось нарисовать картинку.", "Попробуйте немного позже."],
      upstream_timeout: [
        "Сервис изображений слишком долго не отвечал.",
        "Попробуйте снова, например с качеством пониже или описанием попроще.",
      ],
      config_error: ["Сервис настроен неправильно.", "Дело на нашей стороне. Напишите в поддержку."],
      internal_error: [
        "На нашем сервере что-то сломалось.",
        "Попробуйте снова; если не поможет, напишите в поддержку.",
      ],
      generation_interrupted: [
        "Сервер перезапустился во время рисования; картинка не закончена.",
        "Попробуйте снова. Незаконченная попытка могла быть оплачена.",
      ],
      queue_full: ["Сейчас в очереди слишком много картинок.", "Попробуйте через несколько минут."],
      queue_timeout: [
        "Картинка слишком долго ждала очереди и не была нарисована; оплаты не было.",
        "Попробуйте через несколько минут.",
      ],
      cancelled: ["Картинка отменена до того, как её начали рисовать.", "Нажмите «Создать», чтобы начать снова."],
      not_cancellable: ["Картинка уже рисуется, отменить её нельзя.", "Дождитесь окончания."],
      network: ["Не удалось связаться с сервером.", "Проверьте подключение к интернету и попробуйте снова."],
      interrupted: ["Соединение оборвалось до того, как картинка была готова.", "Попробуйте снова."],
      unreachable: [
        "Сервер долго не отвечал, и страница перестала ждать картинку.",
        "Она не потеряна: обновите страницу через несколько минут, чтобы её увидеть.",
      ],
      unknown: ["Произошло что-то непредвиденное.", "Попробуйте снова; если не поможет, напишите в поддержку."],
    },
  },
};

export const LANGUAGES = Object.keys(STRINGS);
const STORAGE_KEY = "imagegen.lang";

/** The saved choice, else the browser's: any ru* in navigator.languages means Russian. */
export function initialLanguage() {
  const saved = safeStorage(() => localStorage.getItem(STORAGE_KEY));
  if (saved && LANGUAGES.includes(saved)) return saved;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  return preferred.some((l) => l.toLowerCase().startsWith("ru")) ? "ru" : "en";
}

export function saveLanguage(lang) {
  safeStorage(() => localStorage.setItem(STORAGE_KEY, lang));
}

/** A string of `lang` with `{name}` placeholders filled; falls back to English, then the key. */
export function translate(lang, key, params = {}) {
  const text = lookup(STRINGS[lang], key) ?? lookup(STRINGS.en, key) ?? key;
  return typeof text === "string" ? text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? "")) : text;
}

function lookup(table, key) {
  return key.split(".").reduce((node, part) => (node == null ? undefined : node[part]), table);
}

/** localStorage throws in some private modes and when disabled; the page works without it. */
export function safeStorage(fn) {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
