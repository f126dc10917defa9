from django.db import migrations


class Migration(migrations.Migration):
    """The thread id moves to the new ``Conversation`` (0005): renamed first so that the
    conversation foreign key can take the name ``conversation``."""

    dependencies = [
        ("messaging", "0002_message_list_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="message", name="message_conversation"),
        migrations.RenameField(
            model_name="message", old_name="conversation_id", new_name="thread_id"
        ),
    ]
