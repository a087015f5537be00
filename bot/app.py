"""App factory: wires settings, database, services, handlers, persistence and the reminder sweep."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.warnings import PTBUserWarning

from domain.services import ContractService
from storage.bot_state import BotStateStore
from storage.db import create_engine, session_factory, start_wal_checkpointer
from storage.migrate import upgrade_to_head
from storage.uow import uow_factory

from . import handlers
from .common import Deps, remember_user, utc_now
from .concurrency import PerUserUpdateProcessor
from .flood import FloodAwareRateLimiter
from .flows import build_conversation
from .heap import settle_heap
from .persistence import DatabasePersistence
from .reminders import install as install_reminders
from .settings import Settings

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "Welcome and main menu"),
    BotCommand("help", "What the bot does and how"),
    BotCommand("newcontract", "Start a contract and invite the other party"),
    BotCommand("contracts", "Your contracts"),
    BotCommand("milestones", "A contract's milestones and buttons"),
    BotCommand("addmilestone", "Add (or propose) a milestone"),
    BotCommand("settings", "Time zone and quiet hours"),
    BotCommand("cancel", "Leave the current step; nothing is saved"),
]


class RedactToken(logging.Filter):
    """The bot token never reaches a log line, whatever library formatted it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<BOT_TOKEN>")
                record.args = ()
            if record.exc_info and not record.exc_text:
                # Tracebacks too (an exception's text may quote a request URL): the handler's
                # formatter uses exc_text as it is when it is already set.
                record.exc_text = self._formatter.formatException(record.exc_info)
            if record.exc_text and self.token in record.exc_text:
                record.exc_text = record.exc_text.replace(self.token, "<BOT_TOKEN>")
        return True


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
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    for handler in logging.getLogger().handlers:
        handler.addFilter(BriefNetworkRetries())
        handler.addFilter(RedactToken(token))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One place for the unexpected: log it, tell the user politely, never show a traceback."""
    err = context.error
    if isinstance(err, (Forbidden, NetworkError, TimedOut)) and not isinstance(err, BadRequest):
        log.warning("Telegram error: %s", err)
    else:
        log.error("Unhandled error while handling an update", exc_info=err)
    if isinstance(update, Update):
        try:
            if update.callback_query:
                await update.callback_query.answer(
                    "Sorry, something went wrong on my side. Please try again.", show_alert=True
                )
            elif update.effective_chat and update.effective_chat.type == "private":
                await context.bot.send_message(
                    update.effective_chat.id, "Sorry, something went wrong on my side. Please try again."
                )
        except Exception:  # the apology itself failed: nothing more to do
            log.debug("could not send the apology", exc_info=True)


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
    svc = ContractService(uow_factory(sessions), review_days=settings.review_days)
    token = settings.bot_token.get_secret_value() if settings.bot_token else "0:test"

    builder = (
        ApplicationBuilder()
        .token(token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .persistence(DatabasePersistence(BotStateStore(sessions)))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .concurrent_updates(PerUserUpdateProcessor(settings.max_concurrent_updates))
    )
    if settings.bot_api_base_url:
        root = settings.bot_api_base_url.rstrip("/")
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    if rate_limiter and settings.send_rate_per_second > 0:
        # Telegram's flood limits: overall rate (bursts allowed, as PTB's default) and 20/min per
        # group; a 429 is waited out (retry_after) and retried up to 3 times, and pauses the
        # reminder pacer for as long (bot/flood.py).
        limiter = FloodAwareRateLimiter(
            overall_max_rate=settings.send_rate_per_second, overall_time_period=1, max_retries=3
        )
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # AIORateLimiter's generic is int, the builder's None
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    elif settings.io_shims and _aiohttp_usable():
        # PTB's defaults (256 pooled connections for calls, 1 for getUpdates) on the aiohttp transport.
        from .http import AiohttpRequest

        builder = builder.request(AiohttpRequest(256)).get_updates_request(AiohttpRequest(1))
    # else PTB builds its stock HTTPXRequest pair.
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["deps"] = Deps(svc=svc, settings=settings, clock=clock)
    app.bot_data["engine"] = engine

    app.add_handler(TypeHandler(Update, remember_user), group=-1)
    app.add_handler(build_conversation())
    app.add_handler(CommandHandler("start", handlers.start))
    app.add_handler(CommandHandler("help", handlers.help_command))
    app.add_handler(CommandHandler("contracts", handlers.private_only(handlers.contracts_command)))
    app.add_handler(CommandHandler("milestones", handlers.private_only(handlers.milestones_command)))
    app.add_handler(CommandHandler("link", handlers.link_command))
    app.add_handler(CommandHandler("cancel", handlers.cancel_nothing))
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_error_handler(on_error)
    if app.job_queue is not None:
        install_reminders(app)
    return app


def _aiohttp_usable() -> bool:
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


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url, inline=settings.io_shims)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _post_init(app: Application) -> None:
    try:
        await app.bot.set_my_commands(COMMANDS)
    except (NetworkError, BadRequest) as err:
        log.warning("could not publish the command menu: %s", err)
    app.bot_data["checkpointer"] = start_wal_checkpointer(app.bot_data["engine"])
    settle_heap()


async def _post_shutdown(app: Application) -> None:
    checkpointer = app.bot_data.get("checkpointer")
    if checkpointer is not None:
        checkpointer.stop()
    await app.bot_data["engine"].dispose()


def run(settings: Settings) -> int:
    configure_logging(settings)
    # The schema is brought up to date before anything (persistence included) reads it; on a loop of
    # its own, so no pooled connection outlives it.
    asyncio.run(_migrate(settings))
    app = build_application(settings)
    log.info("Milestone bot starting (%s mode)", "webhook" if settings.webhook_url else "polling")
    # asyncio.run above closed its loop; PTB runs on a fresh one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    try:
        if settings.webhook_url:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            if not secret:
                log.error(
                    "WEBHOOK_SECRET is required in webhook mode: Telegram sends it with every update "
                    "and the bot refuses requests without it"
                )
                return 2
            path = urlsplit(settings.webhook_url).path.strip("/")
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=path,
                webhook_url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=False,
            )
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
