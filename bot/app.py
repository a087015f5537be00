"""App factory: wires settings, database, services, handlers, persistence and the reminder sweep."""

from __future__ import annotations

import asyncio
import hmac
import logging
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    PreCheckoutQueryHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from domain.model import PaymentMode
from domain.payment_service import PaymentService
from domain.services import ContractService
from storage.db import create_engine, normalize_url, session_factory, start_wal_checkpointer
from storage.migrate import upgrade_to_head
from storage.uow import uow_factory

from . import desk, details, disputes, handlers, hints, payment_limits, payments
from .common import Deps, remember_user, utc_now
from .concurrency import PersonGuard, PerUserUpdateProcessor
from .flows import build_conversation
from .heap import settle_heap
from .i18n import N_, _
from .menu import COMMANDS, publish_commands  # noqa: F401 (COMMANDS: the English menu, for tests)
from .reminders import install as install_reminders
from .sender import Sender
from .settings import Settings
from .turn import DurableApplication, DurableQueue, RecordingBot, TurnRunner, current_turn

log = logging.getLogger(__name__)


APOLOGY = N_("Sorry, something went wrong on my side. Please try again.")

# A stored update still unhandled after this long is taken up by any process (its own died).
RECOVER_AFTER_S = 10.0


class RedactSecrets(logging.Filter):
    """The bot token and the webhook secret never reach a log line, whatever library formatted it (PTB logs
    the Bot API URL, which holds the token, and at DEBUG every call's parameters: setWebhook's hold the secret)."""

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__()
        # secret -> its placeholder; the longer first, should one contain another
        self.secrets = dict(sorted(((s, p) for s, p in secrets.items() if s), key=lambda sp: -len(sp[0])))
        self._formatter = logging.Formatter()

    def _redact(self, text: str) -> str:
        for secret, placeholder in self.secrets.items():
            text = text.replace(secret, placeholder)
        return text

    def _holds_one(self, text: str) -> bool:
        return any(secret in text for secret in self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if self._holds_one(message):
                record.msg = self._redact(message)
                record.args = ()
            if record.exc_info and not record.exc_text:
                # Tracebacks too (an exception's text may quote a request URL): the handler's
                # formatter uses exc_text as it is when it is already set.
                record.exc_text = self._formatter.formatException(record.exc_info)
            if record.exc_text and self._holds_one(record.exc_text):
                record.exc_text = self._redact(record.exc_text)
        return True


def _hidden(value: object) -> str:  # i18n: ok
    update_id = getattr(value, "update_id", None)
    if isinstance(update_id, int):
        return f"<update {update_id}, contents hidden: LOG_UPDATES=false>"
    return "<hidden: LOG_UPDATES=false>"


class HideContents(logging.Filter):
    """LOG_UPDATES=false: the log lines of python-telegram-bot 22 that carry contents (an update as received
    or processed, a Bot API call's parameters or answer: people's messages, the bot's replies) keep their
    first `keep` arguments (the endpoint's name) and lose the others. tests/e2e/test_security_logs.py checks
    that a whole DEBUG log holds no message text."""

    KEEP = {
        "Calling Bot API endpoint `%s` with parameters `%s`": 1,
        "Call to Bot API endpoint `%s` finished with return value `%s`": 1,
        "Webhook received data: %s": 0,
        "Processing update %s": 0,
        "Dropping pending update: %s": 0,
        "Error while parsing updates! Received data was %r": 0,
        "Something went wrong processing the data received from Telegram. "
        "Received data was *not* processed! Received data was: %r": 0,
    }

    def filter(self, record: logging.LogRecord) -> bool:
        keep = self.KEEP.get(record.msg) if isinstance(record.msg, str) else None
        if keep is not None and isinstance(record.args, tuple):
            record.args = record.args[:keep] + tuple(_hidden(arg) for arg in record.args[keep:])
        return True


class ConstantTimeSecret(str):
    """The webhook secret as the bot hands it to PTB's webhook server, which checks every request with
    `header != secret` (telegram/ext/_utils/webhookhandler.py, PTB 22), a comparison that stops at the first
    wrong character. Python runs the right-hand operand's own `__ne__` first when its class is a subclass of
    the left-hand one's, so the check becomes hmac.compare_digest: its time tells nothing about how much of
    a guess was right. tests/unit/test_secret.py pins this against PTB's code."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self.encode(), other.encode("utf-8", "surrogatepass"))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


def webhook_secret(settings: Settings) -> ConstantTimeSecret | None:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    return ConstantTimeSecret(secret) if secret else None


class BriefNetworkRetries(logging.Filter):
    """PTB's network retry loop logs a full traceback for an unreachable or refusing Bot API; one line
    with the cause says the same to an operator (the bot explains the consequence itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage().startswith("Network Retry Loop"):
            err = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(err).__name__}: {err})"
            record.args = ()
            record.exc_info = record.exc_text = None
        return True


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
    )
    # httpx logs every request URL, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    if not settings.log_updates:
        # aiosqlite's DEBUG lines show each statement with its parameters (IO_SHIMS=0 only).
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    for handler in logging.getLogger().handlers:
        if not settings.log_updates:
            handler.addFilter(HideContents())
        handler.addFilter(BriefNetworkRetries())
        handler.addFilter(RedactSecrets({token: "<BOT_TOKEN>", secret: "<WEBHOOK_SECRET>"}))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One place for the unexpected: log it, tell the user politely, never show a traceback."""
    err = context.error
    if isinstance(err, (Forbidden, NetworkError, TimedOut)) and not isinstance(err, BadRequest):
        log.warning("Telegram error: %s", err)
    else:
        log.error("Unhandled error while handling an update", exc_info=err)
    turn = current_turn()
    if turn is not None and err is not None:
        # Nothing the update did is kept (its transaction is rolled back): the apology is all it sends,
        # and no later handler runs on the half-done state.
        turn.fail(err)
    if isinstance(update, Update):
        try:
            if update.callback_query:
                await update.callback_query.answer(_(APOLOGY), show_alert=True)
            elif update.effective_chat and update.effective_chat.type == "private":
                await context.bot.send_message(update.effective_chat.id, _(APOLOGY))
        except Exception:  # the apology itself failed: nothing more to do
            log.debug("could not send the apology", exc_info=True)
    if turn is not None:
        raise ApplicationHandlerStop


def build_application(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    engine=None,
    request=None,
    updater: bool = True,
    rate_limiter: bool = True,
) -> Application:
    warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
    engine = engine or create_engine(settings.database_url, inline=settings.io_shims)
    sessions = session_factory(engine)
    limits = payment_limits.provider_for(settings, clock)  # fiat: Telegram Payments' amount limits, loaded at start
    svc = ContractService(
        uow_factory(sessions),
        review_days=settings.review_days,
        payments=PaymentMode(settings.payments),
        stars=settings.stars,
        limits=limits,
    )
    token = settings.bot_token.get_secret_value() if settings.bot_token else "0:test"

    own_requests: list = []
    if request is not None:
        requests = (request, request)
    elif settings.io_shims and _aiohttp_usable():
        # PTB's defaults (256 pooled connections for calls, 1 for getUpdates) on the aiohttp transport.
        from .http import AiohttpRequest

        own_requests = [AiohttpRequest(256), AiohttpRequest(1)]
        requests = (own_requests[0], own_requests[1])
    else:
        own_requests = [HTTPXRequest(connection_pool_size=256), HTTPXRequest()]
        requests = (own_requests[0], own_requests[1])
    root = settings.bot_api_base_url.rstrip("/") if settings.bot_api_base_url else None
    # During an update, the bot records what handlers send (bot/turn.py); the sender delivers it.
    bot = RecordingBot(
        token,
        base_url=f"{root}/bot" if root else "https://api.telegram.org/bot",
        base_file_url=f"{root}/file/bot" if root else "https://api.telegram.org/file/bot",
        request=requests[0],
        get_updates_request=requests[1],
        defaults=Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)),
    )
    queue = DurableQueue(sessions)
    bot.store_updates_with(queue.store_batch)  # polling: each getUpdates answer in one transaction
    builder = (
        ApplicationBuilder()
        .application_class(DurableApplication)
        .bot(bot)
        .update_queue(queue)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        # One person's flood is dropped before it takes a slot (bot/concurrency.py).
        .concurrent_updates(
            PerUserUpdateProcessor(settings.max_concurrent_updates, PersonGuard.from_settings(settings))
        )
    )
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    deps = app.bot_data["deps"] = Deps(svc=svc, settings=settings, clock=clock)
    deps.extra["payments"] = PaymentService(svc, settings.invoice_secret())
    if limits is not None:
        deps.extra["payment_limits"] = limits
    # rate_limiter=False (tests): the sender sends as fast as it can.
    rate = settings.send_rate_per_second if rate_limiter else 0.0
    sender = Sender(
        bot.call, sessions, rate=rate, on_unreachable=deps.mark_unreachable, retired_card=deps.card_replaced
    )
    app.bot_data["sender"] = sender
    app.bot_data["sessions"] = sessions
    runner = app.bot_data["turns"] = TurnRunner(
        sessions, timedelta(minutes=settings.inbox_max_age_minutes), wake_sender=sender.kick, sender=sender
    )
    processor = app.update_processor
    if isinstance(processor, PerUserUpdateProcessor):
        processor.on_drop = runner.dropped
        processor.exempt = runner.exempt
        processor.language_of = deps.language_seen
    app.bot_data["engine"] = engine
    app.bot_data["requests"] = own_requests  # closed by _post_shutdown, also after a failed start

    app.add_handler(TypeHandler(Update, handlers.screen), group=-2)
    app.add_handler(TypeHandler(Update, remember_user), group=-1)
    # Telegram Payments (PRODUCT §7): before the conversation, so no step takes a payment message.
    app.add_handler(PreCheckoutQueryHandler(payments.pre_checkout))
    app.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, payments.successful_payment))
    app.add_handler(build_conversation())
    app.add_handler(CommandHandler("start", handlers.start))
    app.add_handler(CommandHandler("help", handlers.help_command))
    app.add_handler(CommandHandler("contracts", handlers.private_only(handlers.contracts_command)))
    app.add_handler(CommandHandler("milestones", handlers.private_only(handlers.milestones_command)))
    app.add_handler(CommandHandler("link", handlers.link_command))
    app.add_handler(CommandHandler("cancel", handlers.cancel_nothing))
    desk.install(app)  # the operators' commands
    disputes.install(app)  # and their disputes (PRODUCT §8)
    app.add_handler(CallbackQueryHandler(details.on_press, pattern=details.is_details_press))
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, hints.stray))  # last: what nothing took
    app.add_error_handler(on_error)
    if app.job_queue is not None:
        install_reminders(app)
    return app


def _aiohttp_usable() -> bool:  # i18n: ok
    reason: str | None
    try:
        from .http import unavailable_reason
    except ImportError as err:
        reason = f"cannot import it: {err}"
    else:
        reason = unavailable_reason()
    if reason is not None:
        log.warning(
            "IO_SHIMS: the aiohttp Bot API transport does not fit the installed libraries (%s); "
            "using PTB's HTTPXRequest instead",
            reason,
        )
    return reason is None


class DatabaseUnavailable(Exception):
    """The database can't be reached at start; the text is one line for the operator, without the password."""


def _database_unavailable(settings: Settings, err: BaseException) -> DatabaseUnavailable:  # i18n: ok
    url = make_url(normalize_url(settings.database_url))
    if url.get_backend_name() == "sqlite":
        where = f"the SQLite database {url.database or ':memory:'}"
        hint = "that its directory exists and is writable"
    else:
        host = url.host or url.query.get("host") or "localhost"
        where = f"the database server {host}:{url.port or 5432} (database {url.database!r})"
        hint = "that the server is running and reachable"
    # A DBAPIError's own text adds the SQL and a link on more lines: the driver's error says it all.
    cause = getattr(err, "orig", None) or err
    text = " ".join((str(cause) or type(cause).__name__).split())
    if url.password:
        text = text.replace(url.password, "***")
    return DatabaseUnavailable(f"Could not connect to {where}: {text}. Check DATABASE_URL and {hint}.")


async def _migrate(settings: Settings) -> None:
    try:
        engine = create_engine(settings.database_url, inline=settings.io_shims)
    except ArgumentError:  # its text would quote the URL, password and all
        raise DatabaseUnavailable(
            "DATABASE_URL is not a database URL the bot understands; expected e.g. "
            "postgresql://user:password@host:5432/milestone or sqlite+aiosqlite:///./milestone.sqlite3"
        ) from None
    try:
        try:
            async with engine.connect():
                pass
        except (OSError, DBAPIError) as err:
            raise _database_unavailable(settings, err) from None
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _post_init(app: Application) -> None:
    try:
        await publish_commands(app.bot)
    except (NetworkError, BadRequest) as err:
        log.warning("could not publish the command menu: %s", err)
    await payment_limits.start(app)  # never longer than its time-out; a failure is a warning
    app.bot_data["checkpointer"] = start_wal_checkpointer(app.bot_data["engine"])
    sender: Sender = app.bot_data["sender"]
    sender.start()
    app.bot_data["on_stop"] = lambda: sender.stop(app.bot_data["deps"].settings.stop_grace_seconds)
    if app.updater is not None:
        # Updates a process stored and never handled (it died): handled first; then, now and then, any
        # another process left (PostgreSQL: several processes share the inbox).
        runner: TurnRunner = app.bot_data["turns"]
        await runner.recover(app)
        if app.job_queue is not None:

            async def recover(_context: ContextTypes.DEFAULT_TYPE) -> None:
                await runner.recover(app, timedelta(seconds=RECOVER_AFTER_S))

            app.job_queue.run_repeating(
                recover,
                interval=RECOVER_AFTER_S,
                first=RECOVER_AFTER_S,
                name="inbox-recovery",
            )
    settle_heap()


async def _post_shutdown(app: Application) -> None:
    try:
        checkpointer = app.bot_data.get("checkpointer")
        if checkpointer is not None:
            checkpointer.stop()
        await app.bot_data["engine"].dispose()
    finally:
        # After a failed start (a rejected token, an unreachable Bot API) PTB's Bot was never initialized
        # and PTB skips its shutdown, which closes the requests: their sessions would be left open.
        # Closing a closed one does nothing.
        for request in app.bot_data.get("requests", ()):
            await request.shutdown()


def run(settings: Settings) -> int:
    configure_logging(settings)
    # The schema is brought up to date before anything (persistence included) reads it; on a loop of
    # its own, so no pooled connection outlives it.
    try:
        asyncio.run(_migrate(settings))
    except DatabaseUnavailable as err:
        log.error("%s", err)
        return 2
    app = build_application(settings)
    log.info("Milestone bot starting (%s mode)", "webhook" if settings.webhook_url else "polling")
    # asyncio.run above closed its loop; PTB runs on a fresh one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        if settings.webhook_url:
            secret = webhook_secret(settings)
            if not secret:
                log.error(
                    "WEBHOOK_SECRET is required in webhook mode: Telegram sends it with every update "
                    "and the bot refuses requests without it"
                )
                return 2
            path = urlsplit(settings.webhook_url).path.strip("/")
            try:
                app.run_webhook(
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    url_path=path,
                    webhook_url=settings.webhook_url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                )
            except OSError as err:  # the port is taken, or the address isn't this machine's
                log.error(
                    "Could not listen for webhook requests on %s:%s (%s). Check WEBHOOK_LISTEN and WEBHOOK_PORT.",
                    settings.webhook_listen,
                    settings.webhook_port,
                    err,
                )
                return 2
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except InvalidToken:
        log.error(
            "Telegram rejected BOT_TOKEN (Unauthorized). Copy the token again from @BotFather "
            "(/mybots -> API Token) into .env and restart."
        )
        return 2
    except NetworkError as err:
        log.error("Could not reach the Bot API at start (%s). Check the network or BOT_API_BASE_URL.", err)
        return 3
    return 0
