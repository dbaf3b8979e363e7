"""Partner API v1: status page components."""

from rest_framework import generics, serializers

from statuspage.selectors import components_for_listing


class ComponentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    group = serializers.CharField(source="group.name", allow_null=True, default=None)
    position = serializers.IntegerField()
    showcase = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class ComponentListView(generics.ListAPIView):
    """Components and their current status."""

    scope_area = "statuspage"
    serializer_class = ComponentSerializer

    def get_queryset(self):
        return components_for_listing()
