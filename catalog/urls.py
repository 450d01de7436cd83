from django.urls import path

from . import views

urlpatterns = [
    path("", views.feed, name="feed"),
    path("feed/cards/", views.feed_cards, name="feed-cards"),
    path("browse/", views.browse, name="browse"),
    path("items/<int:pk>/", views.item_detail, name="item-detail"),
    path("items/<int:pk>/interact/", views.item_interact, name="item-interact"),
]
