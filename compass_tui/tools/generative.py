"""plan_assistant, online_shopping and role_play: tools that write rather than look up.

With a tool model configured they ask it through litellm. With none, they return a
deterministic structured result labelled "offline template": never an error, never random.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from compass_tui.config import ModelConfig

OFFLINE = "offline template"
_PLATFORMS = ("ShopLane", "Kartwell", "Mercado Azul", "NorthMart", "Bazaarly")
_COURIERS = ("Swift Parcel", "GreenRoute Logistics", "CityHop Express")
_PRICE_BANDS = {
    "electronics": (39, 420),
    "home goods": (12, 95),
    "clothing": (15, 120),
    "books": (8, 35),
    "health": (9, 60),
    "toys": (10, 70),
    "food": (5, 40),
    "beauty": (8, 55),
    "sports": (15, 150),
    "art supplies": (9, 80),
    "garden": (8, 90),
}


def _digest(*parts: Any) -> int:
    return int(hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest(), 16)


def offline_plan(params: dict[str, Any]) -> str:
    goal = params["plan"].strip().rstrip(".")
    theme = params.get("theme") or "Personal action plan"
    style = params.get("style") or "practical"
    extra = params.get("additional_requirements")
    lines = [
        f"## {theme}: {goal}",
        "",
        "### 1. What we are aiming for",
        f"- {goal[0].upper()}{goal[1:]}, in small steps that fit a real week.",
        "",
        "### 2. Steps",
        "1. Write down what 'done' looks like and one thing that would already count as progress.",
        "2. Pick the first step that takes under 20 minutes and put it on the calendar for tomorrow.",
        "3. Group the remaining work into three blocks and give each block a day this week.",
        "4. Arrange one check-in (a friend, a note to yourself) halfway through.",
        "5. At the end of the week, keep what worked and drop what didn't.",
        "",
        "### 3. If things get in the way",
        "- Low energy: do only the 20-minute version; it still counts.",
        "- Something urgent comes up: move the block, don't delete it.",
    ]
    if extra:
        lines += ["", "### 4. Your requirements", f"- {extra}"]
    lines += ["", f"_Style: {style}._"]
    return "\n".join(lines)


def offline_shopping(params: dict[str, Any]) -> list[str]:
    item_type, item_name = params["item_type"].strip(), params["item_name"].strip()
    features = [str(feature) for feature in params.get("item_features", [])]
    digest = _digest(item_type, item_name, features)
    low, high = _PRICE_BANDS.get(item_type.lower(), (10, 80))
    price = low + digest % (high - low + 1) + 0.99
    rating = 3.9 + (digest % 11) / 10
    reviews = 40 + digest % 4000
    product = "\n".join(
        [
            f"Product Name: {item_name.title()}",
            f"Type: {item_type}",
            f"Description: A well-reviewed {item_name.lower()} chosen for: {', '.join(features) or 'everyday use'}.",
            f"Features: {', '.join(features) or 'standard'}",
            f"Price: ${price:.2f}",
            f"Rating: {min(rating, 5.0):.1f}/5.0 ({reviews} reviews)",
        ]
    )
    order = "\n".join(
        [
            "Order Confirmation",
            f"Order ID: ORD{digest % 10**8:08d}",
            f"Product: {item_name.title()}",
            f"Purchased from: {_PLATFORMS[digest % len(_PLATFORMS)]}",
            "Quantity: 1",
            f"Total Amount: ${price:.2f}",
            f"Courier: {_COURIERS[digest % len(_COURIERS)]}",
            f"Estimated Delivery: Within {2 + digest % 4} days",
            "Order Status: Confirmed",
        ]
    )
    return [product, order]


def offline_roleplay(params: dict[str, Any]) -> str:
    name = params["name"].strip()
    greeting = f"{params['user_name']}, " if params.get("user_name") else ""
    relationship = params.get("relationship") or "friend"
    style = (params.get("style") or "warm").lower()
    said = params["user_input"].strip().rstrip(".!?")
    where = f" from {params['ip']}" if params.get("ip") else ""
    return (
        f"[{name}{where}, as your {relationship}, in a {style} voice] {greeting}I heard you: "
        f"\u201c{said}.\u201d That matters to me. Tell me the part that weighs on you most, and we will look "
        f"at it together, one piece at a time."
    )


def offline_result(folder: str, params: dict[str, Any]) -> Any:
    return {
        "plan_assistant": offline_plan,
        "online_shopping": offline_shopping,
        "role_play": offline_roleplay,
    }[folder](params)


_PROMPTS = {
    "plan_assistant": "Write a concrete, step-by-step action plan in Markdown (headings, numbered steps, "
    "timeline, risks and how to handle them) for this request:\n{params}",
    "online_shopping": "Act as a shopping assistant. For this request, reply with a JSON array of two strings: "
    "first the product details (Product Name, Type, Description, Features, Price, Rating), "
    "then an order confirmation (Order ID, Product, Purchased from, Quantity, Total Amount, "
    "Courier, Estimated Delivery, Order Status). Request:\n{params}",
    "role_play": "Stay in character. You are the character described below; answer the user's input in that "
    "character's voice, relationship and style, in under 120 words.\n{params}",
}


async def llm_result(folder: str, params: dict[str, Any], model: ModelConfig) -> tuple[Any, dict[str, Any]]:
    from compass_tui.llm import acomplete

    prompt = _PROMPTS[folder].format(params=json.dumps(params, ensure_ascii=False, indent=2))
    result = await acomplete(model, [{"role": "user", "content": prompt}], max_retries=2)
    text: str | list[str] = (result.text or "").strip()
    if folder == "online_shopping":
        try:
            parsed = json.loads(str(text))
            if isinstance(parsed, list) and all(isinstance(part, str) for part in parsed):
                text = parsed
        except json.JSONDecodeError:
            pass
    usage = {
        "latency_s": result.latency_s,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost_usd": result.cost_usd,
    }
    return text, usage
