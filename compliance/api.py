from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import MayErase
from compliance.erasure import customer_erase
from core.api import StrictTypes
from customers.models import Customer


class EraseSerializer(StrictTypes, serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="data subject request"
    )


class CustomerEraseView(APIView):
    """Erase a customer (GDPR art. 17 / CCPA): personal data removed or
    anonymised everywhere, numbers kept only as suppression hashes, so later
    checks of those numbers give `customer_erased`. A legal hold refuses (409)."""

    permission_classes = [MayErase]

    @extend_schema(
        request=EraseSerializer,
        responses={
            200: inline_serializer(
                "ErasureResult",
                {
                    "id": serializers.IntegerField(),
                    "erased_at": serializers.DateTimeField(),
                    "numbers_suppressed": serializers.IntegerField(),
                    "already_erased": serializers.BooleanField(),
                },
            ),
            409: OpenApiResponse(description="The customer is on legal hold."),
        },
    )
    def post(self, request, pk: int):
        serializer = EraseSerializer(data=request.data)  # no body: the defaults; a JSON null: a 400
        serializer.is_valid(raise_exception=True)
        customer = get_object_or_404(Customer, pk=pk)
        try:
            erasure = customer_erase(
                customer=customer, by=request.user, via="api", reason=serializer.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(
            {
                "id": erasure.customer.pk,
                "erased_at": erasure.customer.erased_at,
                "numbers_suppressed": erasure.numbers_suppressed,
                "already_erased": erasure.already_erased,
            }
        )
