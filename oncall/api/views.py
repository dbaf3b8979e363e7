"""Partner API v1: regions and teams."""

from rest_framework import generics, serializers

from oncall.selectors import regions, teams_with_members


class RegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    business_day_start = serializers.TimeField()
    business_day_end = serializers.TimeField()


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    region = serializers.CharField(source="region.code")


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    members = MemberSerializer(source="memberships.all", many=True)


class RegionListView(generics.ListAPIView):
    scope_area = "oncall"
    serializer_class = RegionSerializer

    def get_queryset(self):
        return regions()


class TeamListView(generics.ListAPIView):
    scope_area = "oncall"
    serializer_class = TeamSerializer

    def get_queryset(self):
        return teams_with_members()
