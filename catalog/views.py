"""The feed, the item page, browsing, and the like / dislike / rate endpoint."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from recommender.impressions import impressions_record
from recommender.selectors import also_liked, popular_items, recommendations_for_user, similar_items

from . import site_selectors
from .forms import BrowseForm, InteractionForm
from .models import Interaction, Item
from .selectors import category_list
from .services import interaction_record

FEED_SIZE = 20
RELATED_SIZE = 8
BROWSE_PAGE_SIZE = 24


def _with_categories(recommendations):
    """Prefetch categories for the cards in one query, whatever the selector already did."""
    prefetch_related_objects([rec.item for rec in recommendations], "categories")
    return recommendations


def _feed_context(request) -> dict:
    category = site_selectors.category_by_slug(slug=request.GET.get("category", ""))
    slug = category.slug if category else None
    if request.user.is_authenticated:
        recommendations = recommendations_for_user(user=request.user, k=FEED_SIZE, category=slug)
        impressions_record(feed=recommendations, surface="site")
    else:
        recommendations = popular_items(k=FEED_SIZE, category=slug)
    return {
        "recommendations": _with_categories(recommendations),
        "category": category,
        "categories": category_list(),
        "interests": site_selectors.interest_slugs(user=request.user),
    }


@require_GET
def feed(request):
    return render(request, "catalog/feed.html", _feed_context(request))


@require_GET
def feed_cards(request):
    """The feed's card list alone, re-fetched by the page after an interaction."""
    return render(request, "catalog/_feed_cards.html", _feed_context(request))


def state_text(state: site_selectors.ItemState) -> str:
    """One line describing the user's rating and reaction for an item."""
    parts = []
    if state.rating is not None:
        parts.append(f"Your rating: {state.rating:g}/5")
    if state.reaction == Interaction.Kind.LIKE:
        parts.append("You liked this")
    elif state.reaction == Interaction.Kind.DISLIKE:
        parts.append("You disliked this")
    return " · ".join(parts) if parts else "You haven’t rated this yet"


@require_GET
def item_detail(request, pk: int):
    item = get_object_or_404(Item.objects.prefetch_related("categories"), pk=pk, is_active=True)
    state = site_selectors.user_item_state(user=request.user, item=item)
    context = {
        "item": item,
        "state": state,
        "state_text": state_text(state),
        "similar": _with_categories(similar_items(item=item, k=RELATED_SIZE)),
        "also_liked": _with_categories(also_liked(item=item, k=RELATED_SIZE)),
        "interests": site_selectors.interest_slugs(user=request.user),
    }
    return render(request, "catalog/item_detail.html", context)


@require_GET
def browse(request):
    form = BrowseForm(request.GET or None)
    q, category = "", None
    if form.is_bound and form.is_valid():
        q, category = form.cleaned_data["q"], form.cleaned_data["category"]
    page = Paginator(site_selectors.browse_items(q=q, category=category), BROWSE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"form": form, "page": page, "q": q, "category": category}
    context["interests"] = site_selectors.interest_slugs(user=request.user)
    return render(request, "catalog/browse.html", context)


def _done_message(item: Item, kind: str, value) -> str:
    if kind == Interaction.Kind.RATING:
        return f"You rated “{item.title}” {value}/5."
    return f"You {'liked' if kind == Interaction.Kind.LIKE else 'disliked'} “{item.title}”."


def _back_url(request, item: Item) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("item-detail", args=[item.pk])


@login_required
@require_POST
def item_interact(request, pk: int):
    """Record a like, dislike or rating; JSON for the page's fetch, a redirect for plain forms."""
    item = get_object_or_404(Item, pk=pk, is_active=True)
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = InteractionForm(request.POST)
    error = None
    if form.is_valid():
        kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
        try:
            interaction_record(user=request.user, item=item, kind=kind, value=value)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(message for errors in form.errors.values() for message in errors)
    if error:
        if wants_json:
            return JsonResponse({"error": error}, status=400)
        messages.error(request, error)
        return redirect(_back_url(request, item))
    message = _done_message(item, kind, value)
    if wants_json:
        state = site_selectors.user_item_state(user=request.user, item=item)
        return JsonResponse({"message": message, "state": state_text(state)}, status=201)
    messages.success(request, message)
    return redirect(_back_url(request, item))
