"""submissions.retry_at (when an infra_error's next attempt is due; the reconciler sends it)
and course_rubrics (the rubric text each assignment is graded with, stored at create/update);
a submission's status may now also be "rejected".

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_at', sa.DateTime(), nullable=True))
    op.create_table('course_rubrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('stored_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('course_id', 'assignment_id')
    )


def downgrade() -> None:
    op.drop_table('course_rubrics')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('retry_at')
