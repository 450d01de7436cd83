"""Sign-up and onboarding pages. Thin: forms validate, services write."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import OnboardingForm, SignupForm
from .services import profile_ensure, profile_update, user_signup
from .throttles import login_retry_after, signup_retry_after


class LoginView(auth_views.LoginView):
    """Django's login, with sign-in attempts limited per address and per username before any password check."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        retry_after = login_retry_after(request)
        if retry_after is None:
            return super().post(request, *args, **kwargs)
        form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
        response = self.render_to_response(self.get_context_data(form=form, retry_after=retry_after), status=429)
        response["Retry-After"] = str(retry_after)
        return response


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("feed")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Only accounts that would be created count (a typo in the form costs nothing), as many per
        # address as the API's sign-up allows.
        if (wait := signup_retry_after(request)) is not None:
            response = render(request, "registration/signup.html", {"form": form, "retry_after": wait}, status=429)
            response["Retry-After"] = str(wait)
            return response
        try:
            user = user_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:  # e.g. lost a race for the username
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("welcome")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def welcome(request):
    profile = profile_ensure(user=request.user)
    if request.method == "POST":
        form = OnboardingForm(request.POST)
        if form.is_valid():
            try:
                profile_update(user=request.user, **form.cleaned_data, onboarded=True)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Thanks! Your feed now follows your interests.")
                return redirect("feed")
    else:
        form = OnboardingForm(initial=OnboardingForm.initial_for(profile))
    return render(request, "accounts/welcome.html", {"form": form, "profile": profile})
